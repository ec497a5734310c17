// How bad an error rate is, in the three levels the dashboard colours by: under 1% is fine, under 5% is a warning,
// anything above is critical. A workload that received nothing has no level of its own ("idle").
export type ErrorLevel = "ok" | "warning" | "critical" | "idle";

export const WARNING_ERROR_RATE = 0.01;
export const CRITICAL_ERROR_RATE = 0.05;

export function classifyErrorRate(errorRate: number, requestRate = 1): ErrorLevel {
  if (requestRate === 0) return "idle";
  if (errorRate < WARNING_ERROR_RATE) return "ok";
  if (errorRate < CRITICAL_ERROR_RATE) return "warning";
  return "critical";
}

export const errorLevelColors: Record<ErrorLevel, { stroke: string; fill: string; text: string }> = {
  ok: { stroke: "#1a7f37", fill: "#dafbe1", text: "#0f4d22" },
  warning: { stroke: "#bf8700", fill: "#fff8c5", text: "#6b4b00" },
  critical: { stroke: "#cf222e", fill: "#ffebe9", text: "#82071e" },
  idle: { stroke: "#8c959f", fill: "#f6f8fa", text: "#424a53" },
};
