// Types for mistype-web-lint/compose (compose.js).
import type { Finding, Linter } from "./mistype_web_lint.js";

/** Options for {@link attachCompose}. Every key is optional. */
export interface ComposeOptions {
  /**
   * The recipient fields: names of form controls (`<input>`/`<textarea>` holding comma- or
   * semicolon-separated addresses) or elements; an element without a `value` is a chip
   * container whose chips carry `data-address`. Default `["to", "cc", "bcc"]`; missing ones
   * are skipped.
   */
  fields?: Array<string | HTMLElement>;
  /** The sender; default: the value of the form's `from` control, if any. */
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
 * Lint the recipient fields of `form` as the user types: "Did you mean …?" with a one-click
 * fix, block findings marked, reasons on demand, announcements through `aria-live`, and an
 * in-page confirmation when the form is submitted with a block finding still present.
 */
export function attachCompose(
  form: HTMLFormElement,
  linter: Linter,
  options?: ComposeOptions,
): ComposeController;

/** Split recipient text at commas/semicolons outside quotes, angle brackets and comments. */
export function splitRecipients(text: string): Array<{ value: string; start: number; end: number }>;

/** The entry with its domain replaced by the finding's intended domain. */
export function applySuggestion(entry: string, finding: Finding): string;
