/**
 * A Step Functions execution's whole history, page by page. Read by `kiln submit --watch`, `kiln builds show`
 * (stage timings) and the harness that follows builds; one reader so each agrees on what "the history" is.
 */
import { GetExecutionHistoryCommand, type HistoryEvent, type SFNClient } from '@aws-sdk/client-sfn';

/** An execution holds at most 25,000 events: 25 pages of 1,000; the bound keeps a misbehaving API from looping. */
const MAX_PAGES = 30;

export async function executionHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, ...(nextToken ? { nextToken } : {}) }),
    );
    events.push(...(out.events ?? []));
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return events;
}
