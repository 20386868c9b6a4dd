import type { FeedSpec } from './catalog';
import { businessDateColumn, validateLine, type RowRejectReason } from './schemas';

/**
 * The ingest's row screen: rules 1–3 of the normalize job (see ./schemas) applied to every data
 * line while the file streams through the worker, so a bad row is quarantined with its line
 * number before Spark runs and the operator sees the rejects at ingest. Rules 4–6 (duplicate
 * keys, references, fx rates) need the whole feed set and stay with normalize.
 * Constant memory: counts only, the rejected lines go to a quarantine sink as they are found.
 */

export interface RowScreenSummary {
  readonly rowsAccepted: number;
  readonly rowsRejected: number;
  /** Reject counts by reason code (without the `:<column>` suffix), as normalize reports them. */
  readonly rejectReasons: Readonly<Record<string, number>>;
}

export class RowScreen {
  private accepted = 0;
  private rejected = 0;
  private readonly reasons: Record<string, number> = {};
  private offDate = 0;
  readonly dateColumn: string | null;

  constructor(
    private readonly feed: FeedSpec,
    private readonly businessDate: string,
  ) {
    this.dateColumn = businessDateColumn(feed.name);
  }

  /** Screens one data line (without its terminator); null when the line is accepted. */
  check(line: string): RowRejectReason | null {
    const result = validateLine(this.feed, line, this.businessDate);
    if (result.ok) {
      this.accepted++;
      return null;
    }
    this.rejected++;
    const code = result.reason.slice(0, result.reason.indexOf(':'));
    this.reasons[code] = (this.reasons[code] ?? 0) + 1;
    if (code === 'WRONG_BUSINESS_DATE') this.offDate++;
    return result.reason;
  }

  summary(): RowScreenSummary {
    return { rowsAccepted: this.accepted, rowsRejected: this.rejected, rejectReasons: { ...this.reasons } };
  }

  /**
   * True when the feed has a business-date column and every row that reached that check is on
   * another date: the whole file belongs to another business date (a misrouted delivery), which
   * a corrected file fixes, not a night of 100 % rejects.
   */
  wrongBusinessDate(): boolean {
    return this.dateColumn !== null && this.offDate > 0 && this.accepted === 0;
  }

  /** Rows whose business-date column was readable but on another date. */
  get rowsOffDate(): number {
    return this.offDate;
  }
}

/** Header of a quarantine file: the same columns as normalize's rejects output. */
export const QUARANTINE_HEADER = 'line_no,reason,record';

/** One quarantine line: the physical line number, the reason, and the raw line as one CSV field. */
export function quarantineLine(lineNo: number, reason: RowRejectReason, record: string): string {
  return `${lineNo},${reason},"${record.replace(/"/g, '""')}"\n`;
}
