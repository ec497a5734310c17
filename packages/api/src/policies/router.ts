// policies.*: reads straight from Postgres; changes through the control plane. `apply` is a word tRPC reserves for
// its proxies (router() refuses it), so the apply procedure is applyYaml.
import { router } from "../trpc.ts";
import { applyPoliciesRoute } from "./apply-policies.ts";
import { getPolicyHistoryRoute } from "./get-policy-history.ts";
import { getPolicyRoute } from "./get-policy.ts";
import { listPoliciesRoute } from "./list-policies.ts";
import { rollbackPolicyRoute } from "./rollback-policy.ts";

export const policiesRouter = router({
  list: listPoliciesRoute,
  get: getPolicyRoute,
  history: getPolicyHistoryRoute,
  applyYaml: applyPoliciesRoute,
  rollback: rollbackPolicyRoute,
});
