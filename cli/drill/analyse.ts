/**
 * What a drill measured, from the probe's events and the moments each move reached: pure, so each
 * number is tested against a timeline that is known.
 */
import type { ProbeEvent } from './probe';

export interface PhaseMarks {
  readonly kind: 'switchover' | 'failover';
  readonly from: string;
  readonly to: string;
  /** The switchover or failover was requested. */
  readonly startedAt: number;
  /** The target was the writer and no operation was in flight (what AWS reports). */
  readonly writerMovedAt: number;
  /** The writer DNS name led to the new writer (as a new connection resolves it). */
  readonly nameFollowedAt: number;
}

export interface PhaseResult extends PhaseMarks {
  /** From the last acknowledged write before the first failed one to the first acknowledged after the last failed one; the longest gap between acknowledged writes when none failed. */
  readonly writeOutageMs: number;
  readonly lastAckBeforeAt?: number;
  readonly firstAckAfterAt?: number;
  readonly failedWrites: number;
  /** How long Aurora took: request to writer moved. */
  readonly auroraMs: number;
  /** How long the name took after Aurora reported the move. */
  readonly nameMs: number;
  /** How long the client took after both: the first acknowledged write after the outage, counted from the later of the two (negative when it was back sooner). */
  readonly clientAfterBothMs?: number;
}

export function analysePhase(events: readonly ProbeEvent[], marks: PhaseMarks, until: number): PhaseResult {
  const inWindow = events.filter((event) => event.at >= marks.startedAt && event.at <= until);
  const acks = events.filter((event) => event.ok && event.at <= until);
  const failures = inWindow.filter((event) => !event.ok);
  const base = { ...marks, auroraMs: marks.writerMovedAt - marks.startedAt, nameMs: Math.max(0, marks.nameFollowedAt - marks.writerMovedAt), failedWrites: failures.length };
  if (failures.length === 0) {
    const times = [...acks.filter((ack) => ack.at < marks.startedAt).slice(-1), ...inWindow.filter((event) => event.ok)].map((ack) => ack.at);
    const gaps = times.slice(1).map((at, index) => at - times[index]);
    return { ...base, writeOutageMs: Math.max(0, ...gaps) };
  }
  const firstFailure = failures[0].at;
  const lastFailure = failures.at(-1)!.at;
  const lastAckBeforeAt = acks.filter((ack) => ack.at < firstFailure).at(-1)?.at;
  const firstAckAfterAt = acks.find((ack) => ack.at > lastFailure)?.at;
  const outageFrom = lastAckBeforeAt ?? marks.startedAt;
  const outageTo = firstAckAfterAt ?? until;
  return {
    ...base,
    writeOutageMs: outageTo - outageFrom,
    lastAckBeforeAt,
    firstAckAfterAt,
    clientAfterBothMs: firstAckAfterAt === undefined ? undefined : firstAckAfterAt - Math.max(marks.writerMovedAt, marks.nameFollowedAt),
  };
}

/** Acknowledged writes the final writer does not hold. */
export function lostWrites(events: readonly ProbeEvent[], stored: ReadonlySet<number>): number[] {
  return events.filter((event) => event.ok && event.seq !== undefined && !stored.has(event.seq)).map((event) => event.seq!);
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The drill as a picture for a game-day report: every write on a time axis (acknowledged green,
 * failed red), and a line at each moment that matters, labelled with its time from the start.
 */
export function timelineSvg(title: string, events: readonly ProbeEvent[], phases: readonly PhaseResult[], start: number, end: number): string {
  const width = 960;
  const left = 40;
  const plot = width - left * 2;
  const span = Math.max(1, end - start);
  const x = (at: number) => (left + ((at - start) / span) * plot).toFixed(1);
  const seconds = (at: number) => `${((at - start) / 1000).toFixed(1)} s`;
  const marks = phases.flatMap((phase, index) => [
    { at: phase.startedAt, label: `${phase.kind} to ${phase.to} requested`, color: '#1f4e79' },
    { at: phase.writerMovedAt, label: 'Aurora: writer moved', color: '#7a4f01' },
    { at: phase.nameFollowedAt, label: 'name leads to the new writer', color: '#5b2c83' },
    ...(phase.firstAckAfterAt ? [{ at: phase.firstAckAfterAt, label: 'client writing again', color: '#1b7f3b' }] : []),
  ].map((mark) => ({ ...mark, row: index })));
  const ticks = Array.from({ length: Math.floor(span / 1000) + 1 }, (_, second) => start + second * 1000).filter((_, second, all) => all.length <= 60 || second % 5 === 0);
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${150 + marks.length * 16}" font-family="sans-serif" font-size="11">`,
    `<text x="${left}" y="18" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<line x1="${left}" y1="70" x2="${left + plot}" y2="70" stroke="#999"/>`,
    ...ticks.map((at) => `<line x1="${x(at)}" y1="66" x2="${x(at)}" y2="74" stroke="#999"/><text x="${x(at)}" y="88" text-anchor="middle" fill="#555">${Math.round((at - start) / 1000)}</text>`),
    `<text x="${left + plot}" y="100" text-anchor="end" fill="#555">seconds</text>`,
    ...events.map((event) => `<rect x="${x(event.at)}" y="${event.ok ? 40 : 52}" width="2" height="10" fill="${event.ok ? '#2e9e4f' : '#d62728'}"><title>${event.ok ? 'acknowledged' : 'failed'} write ${event.seq ?? ''} at ${seconds(event.at)}${event.error ? `: ${escape(event.error)}` : ''}</title></rect>`),
    `<text x="${left - 4}" y="49" text-anchor="end" fill="#2e9e4f">ok</text><text x="${left - 4}" y="61" text-anchor="end" fill="#d62728">fail</text>`,
    ...marks.map((mark, index) => [
      `<line x1="${x(mark.at)}" y1="30" x2="${x(mark.at)}" y2="${118 + index * 16}" stroke="${mark.color}" stroke-dasharray="3,2"/>`,
      `<text x="${x(mark.at)}" y="${122 + index * 16}" fill="${mark.color}">${escape(`${seconds(mark.at)}  ${mark.label}`)}</text>`,
    ].join('')),
    '</svg>',
  ];
  return `${lines.join('\n')}\n`;
}
