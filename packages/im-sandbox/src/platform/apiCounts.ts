// What every IM's control API reports of how its open API was used, beside the calls per route
// that Faults counts.

export interface ApiCounts {
  /** Token requests by the app they named, whatever the answer. */
  tokenRequests: Record<string, number>;
  /** Instances actually created (a repeated Feishu uuid creates none). */
  instanceCreates: number;
  /** Successful instance reads. */
  instanceReads: number;
}

export const emptyApiCounts = (): ApiCounts => ({
  tokenRequests: {},
  instanceCreates: 0,
  instanceReads: 0,
});

export function countTokenRequest(counts: ApiCounts, appId: string): void {
  counts.tokenRequests[appId] = (counts.tokenRequests[appId] ?? 0) + 1;
}
