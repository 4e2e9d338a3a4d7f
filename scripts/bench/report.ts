// What a scenario hands back to the driver, and small Markdown helpers.

export interface Goal {
  /** the goal as the issue states it */
  goal: string;
  /** the figure it is judged on, in words */
  figure: string;
  /** null: not judged in this run (quick mode, a peer missing...) */
  met: boolean | null;
}

export interface Outcome {
  /** Markdown, without the section heading */
  body: string[];
  goals: Goal[];
  /** commands run, for the report's record */
  commands: string[];
  /** set when the scenario could not run at all (missing dist/, ...) */
  skipped?: string;
}

export interface Ctx {
  quick: boolean;
  /** run a profiled pass where a goal is missed */
  profile: boolean;
  log: (line: string) => void;
}

export interface Scenario {
  id: string;
  title: string;
  run: (ctx: Ctx) => Promise<Outcome>;
}

export function table(headers: string[], rows: (string | number)[][]): string[] {
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

export const mark = (met: boolean | null): string => (met === null ? 'not judged' : met ? '**met**' : '**missed**');
