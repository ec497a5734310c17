// When to renew: at half of the certificate's remaining life as seen when it arrived (the leaf's notBefore is
// back-dated for clock skew, so it is not the start), which leaves the other half for retries if the control
// plane is down at that moment.

/** Never hammer the CA, even with a leaf that lives a few seconds (tests). */
const MIN_DELAY_MS = 500;

export function computeRenewalDelay({ receivedAt, notAfter }: { receivedAt: Date; notAfter: Date }): number {
  return Math.max(MIN_DELAY_MS, Math.floor((notAfter.getTime() - receivedAt.getTime()) / 2));
}
