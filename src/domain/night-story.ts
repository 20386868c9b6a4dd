/**
 * The words a night shows an operator in the Temporal UI and the terminal: where it stands, what
 * a parked step needs (a valid, copy-paste `resolveStep` body per allowed action, with `reason`
 * and `by`, and the CLI line), activity and child-workflow summaries as sentences, the story of a
 * closed night. Pure and deterministic (the workflows call them), no I/O, no Node built-ins.
 */
import type { FeedName } from './feeds/catalog';
import type { StepName } from './pipeline';
import { escalateAfterOom, type EscalationPolicy } from './spark/escalation';
import type { SparkAttemptOutcome, SparkJobName, SparkOutcomeKind, SparkResources } from './spark/resources';

export type StoryAction = 'retry' | 'skip' | 'abort';

/** A parked step as the story needs it (the shape of the workflow's `ParkedStep`). */
export interface ParkedStory {
  readonly step: StepName;
  readonly feed?: FeedName;
  readonly error: { readonly type: string; readonly message: string };
  readonly since: string;
  readonly actions: readonly StoryAction[];
}

export interface NightName {
  readonly tenant: string;
  readonly businessDate: string;
}

/** How `resolveStep` refusals begin; the failure converter keeps such refusals readable in the UI. */
export const REFUSAL_PREFIX = 'resolveStep refused: ';

/** What an operator replaces in a copied body: valid JSON as it stands, obvious when left. */
export const REASON_PLACEHOLDER = 'why (kept in the manifest)';
export const BY_PLACEHOLDER = 'your name';

// ---- resolveStep bodies and CLI lines -------------------------------------------------------------

export interface ResolveStepBody {
  readonly step: StepName;
  readonly feed?: FeedName;
  readonly action: StoryAction;
  readonly reason: string;
  readonly by: string;
}

/** The `resolveStep` update's argument for one action on the parked step. */
export function resolveStepBody(parked: Pick<ParkedStory, 'step' | 'feed'>, action: StoryAction, note: { readonly reason?: string; readonly by?: string } = {}): ResolveStepBody {
  return { step: parked.step, ...(parked.feed ? { feed: parked.feed } : {}), action, reason: note.reason ?? REASON_PLACEHOLDER, by: note.by ?? BY_PLACEHOLDER };
}

/** The same as one line of JSON: what the UI's "Send an Update" dialog takes as it is. */
export function resolveStepJson(parked: Pick<ParkedStory, 'step' | 'feed'>, action: StoryAction, note: { readonly reason?: string; readonly by?: string } = {}): string {
  return JSON.stringify(resolveStepBody(parked, action, note));
}

/** A shell word: left bare when safe, else single-quoted. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The `nightjar resolve …` line for one action (the tenant always named, so NIGHTJAR_TENANT does not matter). */
export function resolveCliLine(night: NightName, parked: Pick<ParkedStory, 'step' | 'feed'>, action: StoryAction, reason = REASON_PLACEHOLDER): string {
  return [
    'nightjar resolve --date',
    night.businessDate,
    '--tenant',
    shellWord(night.tenant),
    '--step',
    parked.step,
    ...(parked.feed ? ['--feed', parked.feed] : []),
    '--action',
    action,
    '--reason',
    shellWord(reason),
  ].join(' ');
}

const ACTION_WORDS: Readonly<Record<StoryAction, string>> = {
  retry: 'run the step again (after fixing its cause)',
  skip: 'go on without this optional feed',
  abort: 'end the night as FAILED',
};

/** What a parked step is, in a few words: `ingest (payments)`. */
export const parkedStepName = (parked: Pick<ParkedStory, 'step' | 'feed'>) => `${parked.step}${parked.feed ? ` (${parked.feed})` : ''}`;

/** The one-line summary of a parked night, e.g. for the list's view: `NEEDS ATTENTION: ingest (payments) — FeedRejected`. */
export function parkedSummary(parked: ParkedStory): string {
  return `NEEDS ATTENTION: ${parkedStepName(parked)} — ${parked.error.type}`;
}

/**
 * The current details of a parked night (Markdown, as the UI renders it): the step, its error type
 * and message, then for each allowed action what it does, a valid JSON body for the `resolveStep`
 * update and the CLI line.
 */
export function parkedDetails(night: NightName, parked: ParkedStory): string {
  const lines = [
    `**NEEDS ATTENTION** — ${night.tenant} ${night.businessDate}: **${parkedStepName(parked)}** failed, waiting since ${parked.since}`,
    '',
    `**${parked.error.type}**: ${parked.error.message}`,
    '',
    'Decide with *Send an Update* → name `resolveStep`, with one of these bodies (replace the reason and your name):',
  ];
  for (const action of parked.actions) {
    lines.push('', `- **${action}** — ${ACTION_WORDS[action]}:`, '', '  ```json', `  ${resolveStepJson(parked, action)}`, '  ```', `  or from a terminal: \`${resolveCliLine(night, parked, action)}\``);
  }
  return lines.join('\n');
}

/**
 * A refusal of a `resolveStep` decision with the body that would be accepted: refusals show in the
 * UI as they are (see REFUSAL_PREFIX), so they say what to send instead. `why` comes from the
 * validator and names only step, feed, action and field names.
 */
export function refusalMessage(why: string, parked: ParkedStory | undefined): string {
  if (!parked) return `${REFUSAL_PREFIX}${why}`;
  return `${REFUSAL_PREFIX}${why}. Allowed: ${parked.actions.map((a) => resolveStepJson(parked, a)).join(' or ')}`;
}

/** The UI's list of the nights waiting for a human (a visibility query on NightjarStatus). */
export function attentionListUrl(uiUrl: string, namespace: string): string {
  return `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent('NightjarStatus="NEEDS_ATTENTION"')}`;
}

// ---- summaries as sentences ---------------------------------------------------------------------

/** `512 MiB`, `2 GiB`, `1.5 GiB`. */
export function memoryWords(mb: number): string {
  if (mb < 1024) return `${mb} MiB`;
  const gib = mb / 1024;
  return `${Number.isInteger(gib) ? gib : gib.toFixed(1)} GiB`;
}

/** `driver 2 GiB, 2 executors × 4 GiB`: what an attempt asks for. */
export function resourcesWords(r: Pick<SparkResources, 'driverMemoryMb' | 'executorMemoryMb' | 'executorInstances'>): string {
  return `driver ${memoryWords(r.driverMemoryMb)}, ${r.executorInstances} executor${r.executorInstances === 1 ? '' : 's'} × ${memoryWords(r.executorMemoryMb)}`;
}

export interface AttemptRef {
  readonly job: SparkJobName;
  readonly attempt: number;
  /** The most attempts the escalation policy allows. */
  readonly maxAttempts: number;
}

const attemptName = (a: AttemptRef) => `${a.job}, attempt ${a.attempt} of ${a.maxAttempts}`;

/**
 * Submit / await / clean-up summaries: `normalize, attempt 2 of 4: submit with driver 2 GiB, 2 executors × 4 GiB`.
 * A clean-up scheduled once the attempt's outcome is known says it, so the attempt's ending shows
 * in the timeline without a click: `normalize, attempt 1 of 4: clean up — executors out of memory → retry with 4 GiB executors`.
 */
export function sparkActivitySummary(a: AttemptRef, phase: 'submit' | 'await' | 'clean up', resources?: SparkResources, ending?: AttemptEnding): string {
  const tail = phase === 'submit' && resources ? ` with ${resourcesWords(resources)}` : phase === 'clean up' && ending ? ` — ${attemptEndingWords(ending)}` : '';
  return `${attemptName(a)}: ${phase}${tail}`;
}

export interface AttemptEnding extends AttemptRef {
  readonly outcome: SparkOutcomeKind;
  readonly oomSide?: 'driver' | 'executor';
  /** What the next attempt asks for, when there is one. */
  readonly next?: SparkResources;
  /** Why the job stops here (e.g. the memory cap), when it does. */
  readonly stop?: string;
}

/** How an attempt ended and what follows, without the attempt's name: `executors out of memory → retry with 4 GiB executors`. */
export function attemptEndingWords(a: AttemptEnding): string {
  switch (a.outcome) {
    case 'SUCCEEDED':
      return 'succeeded';
    case 'OUT_OF_MEMORY': {
      const side = a.oomSide === 'executor' ? 'executors' : 'driver';
      if (!a.next) return `${side} out of memory → ${a.stop ? `cannot grow (${a.stop})` : 'no attempt left'}`;
      const grown = a.oomSide === 'executor' ? `${memoryWords(a.next.executorMemoryMb)} executors` : `a ${memoryWords(a.next.driverMemoryMb)} driver`;
      return `${side} out of memory → retry with ${grown}`;
    }
    case 'TRANSIENT':
      return a.next ? 'transient failure → retry with the same size' : 'transient failure → no attempt left';
    case 'PERMANENT':
      return `failed for good${a.stop ? ` (${a.stop})` : ''} → the night parks for a decision`;
  }
}

/**
 * What an attempt's outcome leads to: the next attempt's size (the same after a transient
 * failure, escalated by the policy after an out-of-memory) or why the job stops. The `sparkJob`
 * workflow takes the decision itself with the same pure escalation, so the words match it.
 */
export function attemptEnding(ref: AttemptRef, outcome: Pick<SparkAttemptOutcome, 'kind' | 'oomSide'>, resources: SparkResources, policy: EscalationPolicy): AttemptEnding {
  const ending: AttemptEnding = { ...ref, outcome: outcome.kind, ...(outcome.oomSide !== undefined ? { oomSide: outcome.oomSide } : {}) };
  const attemptsLeft = ref.attempt < ref.maxAttempts;
  if (outcome.kind === 'OUT_OF_MEMORY') {
    const decision = escalateAfterOom(resources, outcome.oomSide ?? 'driver', policy);
    if (!decision.escalate) return { ...ending, stop: decision.reason };
    return attemptsLeft ? { ...ending, next: decision.resources } : ending;
  }
  return outcome.kind === 'TRANSIENT' && attemptsLeft ? { ...ending, next: resources } : ending;
}

/**
 * How an attempt ended and what follows, as one sentence:
 * `normalize, attempt 2 of 4: executors out of memory → retry with 4 GiB executors`.
 */
export function attemptEndingSentence(a: AttemptEnding): string {
  return `${attemptName(a)}: ${attemptEndingWords(a)}`;
}

const JOB_WORDS: Readonly<Record<SparkJobName, string>> = {
  normalize: "check and normalize the feeds",
  transform: 'build the reports',
};

/** The Spark child workflow's summary: `Spark: check and normalize the feeds of 2026-12-04 (tenant bank-eu), retry 1`. */
export function sparkChildSummary(night: NightName, job: SparkJobName, round = 1): string {
  const tenant = night.tenant === 'default' ? '' : ` (tenant ${night.tenant})`;
  return `Spark: ${JOB_WORDS[job]} of ${night.businessDate}${tenant}${round > 1 ? `, retry ${round - 1} after an operator's decision` : ''}`;
}

/** The ingest activity's summary: `ingest payments of 2026-12-04`. */
export function ingestSummary(feed: FeedName, businessDate: string): string {
  return `ingest ${feed} of ${businessDate}`;
}

// ---- the story of a closed night ------------------------------------------------------------------

export interface ClosedStoryInput extends NightName {
  readonly status: 'COMPLETED' | 'FAILED' | 'CANCELLED';
  /** A required feed missed its cut-off. */
  readonly late?: boolean;
  readonly feeds: readonly { readonly rowsIn: number; readonly rowsRejected: number }[];
  readonly reports: readonly { readonly rows: number }[];
  readonly error?: { readonly step: StepName; readonly type: string };
  /** Where the night's report page is (the manifest's folder). */
  readonly reportUri?: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * The last words of a night, kept in its memo (readable from the UI and `nightjar status` with no
 * worker running) and as its final current details. Names counts, the failed step and its error
 * type — never an error message, which may quote customer data.
 */
export function closedStory(s: ClosedStoryInput): string {
  const rowsIn = s.feeds.reduce((n, f) => n + f.rowsIn, 0);
  const rejected = s.feeds.reduce((n, f) => n + f.rowsRejected, 0);
  const rows = s.reports.reduce((n, r) => n + r.rows, 0);
  const parts = [`**${s.status}**${s.late ? ' (late)' : ''} — ${s.tenant} ${s.businessDate}: ${s.feeds.length} feeds, ${fmt(rowsIn)} rows in, ${fmt(rejected)} rejected; ${fmt(rows)} report rows`];
  if (s.error) parts.push(`stopped at ${s.error.step} (${s.error.type})`);
  if (s.reportUri) parts.push(`report: ${s.reportUri}`);
  return parts.join('; ');
}

/** The memo a closed night keeps (decoded by the UI through the codec server like any payload). */
export function closedStoryMemo(s: ClosedStoryInput): { readonly nightjarStory: string; readonly nightjarStatus: string } {
  return { nightjarStory: closedStory(s), nightjarStatus: s.status };
}
