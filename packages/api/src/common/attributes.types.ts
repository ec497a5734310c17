// OpenTelemetry attribute values on the wire: scalars, arrays and maps of them, as spans and log records store them.
import { z } from "zod";
import type { AttributeValue } from "@trellis/db";

export const attributeValueSchema: z.ZodType<AttributeValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(attributeValueSchema), z.record(z.string(), attributeValueSchema)]),
);

export const attributesSchema = z.record(z.string(), attributeValueSchema);
