// Parser for `wevtutil qe <log> /f:text`: one block per event,
//   Event[0]:
//     Log Name: System
//     Source: Service Control Manager
//     Date: 2024-05-14T09:31:02.441
//     Event ID: 7036
//     Task: N/A
//     Level: Information
//     Opcode: N/A
//     Keyword: Classic
//     User: N/A
//     User Name: N/A
//     Computer: WIN-SRV01
//     Description:
//   The Windows Update service entered the running state.
// The description is not indented and may span lines, blank ones and indented "Key: value" ones
// included, so it runs until the next `Event[n]:` line, not until a blank line.

export interface WinEvent {
  date: string;
  level: string;
  source: string;
  eventId: string;
  message: string;
}

const EVENT_START = /^Event\[\d+\]:\s*$/;
const HEADER_LINE = /^ {2}(\S[^:]*):\s?(.*)$/;
/** The header fields in wevtutil's fixed order; used by position when labels are translated. */
const ORDER = ['Log Name', 'Source', 'Date', 'Event ID', 'Task', 'Level', 'Opcode', 'Keyword', 'User', 'User Name', 'Computer', 'Description'];

function toEvent(block: string[]): WinEvent {
  const fields: [string, string][] = [];
  let i = 0;
  for (; i < block.length && fields.length < ORDER.length; i++) {
    const m = HEADER_LINE.exec(block[i]!);
    if (!m) break;
    fields.push([m[1]!.trim(), m[2]!.trim()]);
    if (m[1]!.trim() === 'Description') {
      i++;
      break;
    }
  }
  const english = fields.some(([k]) => k === 'Source');
  const get = (name: string): string => {
    if (english) return fields.find(([k]) => k === name)?.[1] ?? '';
    return fields[ORDER.indexOf(name)]?.[1] ?? '';
  };
  const description = [get('Description'), ...block.slice(i)]
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/\s+/g, ' ');
  return { date: get('Date'), level: get('Level'), source: get('Source'), eventId: get('Event ID'), message: description };
}

/** Events in the order printed (newest first with /rd:true). */
export function parseWevtutilText(text: string): WinEvent[] {
  const events: WinEvent[] = [];
  let block: string[] | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (EVENT_START.test(line)) {
      if (block) events.push(toEvent(block));
      block = [];
    } else if (block) {
      block.push(line);
    }
  }
  if (block) events.push(toEvent(block));
  return events;
}

/** One line per event: "<date> <level> <source>: <message>". */
export function formatWinEvent(e: WinEvent): string {
  return `${e.date || '-'} ${e.level || '-'} ${e.source || '-'}: ${e.message}`;
}
