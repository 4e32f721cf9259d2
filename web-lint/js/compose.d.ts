// Types for mistype-web-lint/compose (compose.js).
import type { Finding, Linter } from "./mistype_web_lint.js";

/** One recipient entry of a field: typed text (with its offsets) or a chip. */
export interface RecipientEntry {
  /** The entry as written: `Name <addr>` or `addr`. */
  value: string;
  start?: number;
  end?: number;
  /** The chip element, for chip widgets. */
  chip?: Element | null;
  /** Text being typed (not yet a chip) in a chip widget. */
  typed?: boolean;
}

/** One recipient field as an adapter sees it. */
export interface AdapterField {
  /** Unique per page (`to`, `cc`, `bcc`, or `field-1`, `field-2` for unnamed ones). */
  key: string;
  /** Shown in announcements. */
  label: string;
  /** The element that gets the marks (`aria-invalid`, `mistype-has-block`) and `aria-describedby`. */
  node: HTMLElement;
  /** Where keyboard focus goes after a fix (default `node`). */
  focusNode?: () => HTMLElement | null;
  /** The addresses in the field now: typed text and chips. */
  entries(): RecipientEntry[];
  /** Replace one entry so that the webmail's own state follows (its model, chips, hidden field). */
  replace(entry: RecipientEntry, fixed: string, finding: Finding): boolean | void;
  /** Put the notes element where it does not break the webmail's layout (unless `overlay`). */
  placeNotes?(notes: HTMLElement): void;
  /** Draw the notes over the page, under `group` (or `node`), outside the page's layout. */
  overlay?: boolean;
  /** The element around the field (its chips, its row) the overlay notes are anchored to. */
  group?: HTMLElement;
  /** Listen for edits: `onInput` (debounced lint) and `onChange("blur" | Event)`; returns an unsubscribe. */
  watch(onInput: () => void, onChange: (why?: unknown) => void): () => void;
}

/**
 * Fits the compose helper to one webmail's compose page. Shipped: `plain` (named form fields,
 * the default), `demo` (the project's demo page), `roundcube` (Roundcube 1.6: elastic's recipient
 * chips, larry's textareas, `beforesend`), `generic` (recipient-looking fields of any page).
 */
export interface ComposeAdapter {
  name: string;
  /** Whether this adapter fits the page or element. */
  match(root: Document | Element): boolean;
  /** The recipient fields. */
  fields(root: Document | Element, options: Required<Pick<ComposeOptions, "fields">> & { labels: Record<string, string> }): AdapterField[];
  /** The sender address, if the page shows one. */
  from(root: Document | Element, options?: ComposeOptions): string | null;
  /** The element whose edits change the sender (re-lint), if any. */
  fromNode?(root: Document | Element, options?: ComposeOptions): HTMLElement | null;
  /**
   * Hook the webmail's before-send. `ask(how?)` returns true when the send may go on now; false
   * means it was stopped and the user is being asked. Returns an unhook function.
   */
  hookSend(root: Document | Element, ask: (how?: AskHow) => boolean, context?: HookContext): () => void;
  /** Send again after the user confirmed. */
  resend(root: Document | Element): void;
  /** Whether the send of the compose window holding `node` can be stopped (default: yes). */
  canStop?(doc: Document, node: HTMLElement, fieldNodes: () => HTMLElement[]): boolean;
}

/** What an adapter tells `ask` about one send. */
export interface AskHow {
  /** Only the fields inside this element (the compose window of the send) count. */
  scope?: Element;
  /** Re-issues exactly this send (the page's own submit, click or shortcut); default the adapter's `resend`. */
  resend?: () => void;
  /** Only say whether it would ask (false), without asking. */
  check?: boolean;
}

/** What `attachCompose` gives an adapter's `hookSend`. */
export interface HookContext {
  /** Registers a capture-phase listener on the window (default `addEventListener(type, fn, true)`). */
  listen?: ((type: string, fn: (event: Event) => void) => () => void) | null;
  /** The nodes of the fields attached now. */
  fieldNodes: () => HTMLElement[];
}

/** The shipped adapters. */
export const adapters: {
  plain: ComposeAdapter;
  demo: ComposeAdapter;
  roundcube: ComposeAdapter;
  generic: ComposeAdapter & { candidates(root: Document | Element): HTMLElement[] };
};
export const plainAdapter: ComposeAdapter;
export const demoAdapter: ComposeAdapter;
export const roundcubeAdapter: ComposeAdapter;
export const genericAdapter: ComposeAdapter & {
  /** The recipient fields of the page: text inputs, textareas, contenteditable hosts, textboxes, comboboxes and listboxes of chips named To/Cc/Bcc. */
  candidates(root: Document | Element): HTMLElement[];
  /** "to", "cc", "bcc" (or a key from the field's name or id) for a recipient field; null otherwise. */
  kindOf(node: HTMLElement): string | null;
  /** The controls of the page whose accessible name means Send. */
  sendControls(root: Document | Element): HTMLElement[];
};

/** The accessible name of an element: aria-labelledby, aria-label, its labels, a control's text, title, placeholder. */
export function accessibleName(node: Element): string;

/** The adapter for a page: Roundcube, the demo page, else `generic` when any field looks like a recipient field; else null. */
export function detectAdapter(root: Document | Element): ComposeAdapter | null;

/** The address in `Name <addr>` or a bare address; null when there is none. */
export function addressOf(text: string): string | null;

/** Options for {@link attachCompose}. Every key is optional. */
export interface ComposeOptions {
  /** The compose page's adapter, or a shipped adapter's name (default `"plain"`). */
  adapter?: ComposeAdapter | "plain" | "demo" | "roundcube" | "generic";
  /**
   * When a send is stopped to ask: `"block"` (default: only block findings) or `"warn"` (also
   * warnings scored at least `askWarnScore`, so that a `gmial.com` reaches the user's eyes before
   * it leaves).
   */
  askOn?: "block" | "warn";
  /**
   * With `askOn: "warn"`, the lowest score of a warning that asks (default 0.65, the filter's
   * `block_warn_score`). A warning only worth a check (a short name one slip from a reference,
   * scored at most 0.6) is shown under the field and not asked about.
   */
  askWarnScore?: number;
  /**
   * Ask in the webmail's own UI instead of the built-in `<dialog>`: call `proceed()` to send as
   * written, `cancel()` to go back to the fields, `fix()` (present when every asked finding has a
   * suggestion) to apply the suggestions and send again. Make going back the focused, Enter and
   * Escape action.
   */
  confirm?: (asked: ComposeFinding[], how: { proceed(): void; cancel(): void; fix?: () => void }) => void;
  /**
   * Registers the send hooks' capture-phase listeners (default: on the window). The browser
   * extension passes one registered at document start, before the page's own handlers.
   */
  listen?: (type: string, fn: (event: Event) => void) => () => void;
  /** Called with an error thrown inside the helper (default: console.error). */
  onError?: (error: unknown) => void;
  /** Called after each lint whose findings changed, with the state and the announced messages. */
  onFindings?: (state: ComposeState, messages: string[]) => void;
  /** Called after a one-click fix. */
  onFix?: (fix: { field: string; entry: string; fixed: string; finding: Finding }) => void;
  /**
   * For the `plain` adapter, the recipient fields: names of form controls (`<input>`/`<textarea>`
   * holding comma- or semicolon-separated addresses) or elements; an element without a `value` is
   * a chip container whose chips carry `data-address`. Default `["to", "cc", "bcc"]`; missing
   * ones are skipped. Fields without a name or id get the keys `field-1`, `field-2`, ...
   */
  fields?: Array<string | HTMLElement>;
  /** The sender; default: the adapter's (plain: the form's `from` control; Roundcube: the identity). */
  from?: string | null | (() => string | null);
  /** Addresses or bare domains the sender already corresponds with (never flagged). */
  contacts?: string[] | (() => string[]);
  /** Milliseconds of quiet typing before a field is linted (default 150). */
  debounce?: number;
  /** Field labels used in announcements (default To, Cc, Bcc). */
  labels?: Record<string, string>;
  /** Called when the user confirms sending despite block findings, before the re-submit. */
  onConfirm?: (state: ComposeState) => void;
}

/** One finding, with the field and the recipient entry it belongs to. */
export interface ComposeFinding {
  field: string;
  entry: string;
  finding: Finding;
}

export interface ComposeState {
  findings: ComposeFinding[];
  /** Whether any finding blocks (submitting will ask for confirmation). */
  block: boolean;
}

export interface ComposeController {
  /** The adapter's name. */
  adapter: string;
  /** Let the next send through without asking (it was confirmed elsewhere, e.g. after a gateway block). */
  skipNextCheck(): void;
  /** Lint every field now (skipping the debounce) and return the state. */
  lint(): ComposeState;
  /** The state of the last lint. */
  state(): ComposeState;
  /** Use another linter (e.g. after a policy change) and lint again. */
  setLinter(linter: Linter): ComposeState;
  /** Remove every listener and element the helper added. */
  detach(): void;
}

/**
 * Lint the recipient fields of `root` (a form for the `plain` adapter, the document for a
 * webmail's adapter) as the user types: "Did you mean …?" with a one-click fix, block findings
 * marked, reasons on demand, announcements through `aria-live`, and a confirmation when the
 * user sends with a finding still present (block findings, or sure warnings with `askOn: "warn"`).
 */
export function attachCompose(
  root: HTMLFormElement | Document | HTMLElement,
  linter: Linter,
  options?: ComposeOptions,
): ComposeController;

/** Split recipient text at commas/semicolons outside quotes, angle brackets and comments. */
export function splitRecipients(text: string): Array<{ value: string; start: number; end: number }>;

/** The entry with its domain replaced by the finding's intended domain. */
export function applySuggestion(entry: string, finding: Finding): string;

/** The recipient list with every entry a finding with a suggestion names fixed; the rest as typed. */
export function applySuggestions(text: string, findings: Finding[]): string;
