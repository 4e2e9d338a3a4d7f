// Where a command prints: the CLI's stdout/stderr or the console's terminal.

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** a terminal to draw progress on, if any */
  progress?: (line: string | null) => void;
  /** asks a yes/no question; absent when nobody can answer */
  confirm?: (question: string) => Promise<boolean>;
}
