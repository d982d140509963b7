/**
 * A turn's session messages as the SSE stream delivered them: message infos, parts, and text deltas applied
 * to their parts. A clean turn's end is read from here instead of the messages API (one OpenCode round trip
 * less); anything the mirror cannot place (a reconnect, a removal, a part of a message it has not seen)
 * marks a gap, and the turn then reads the API as before. No I/O here.
 */
import type { Message, Part } from '@opencode-ai/sdk/v2';
import type { MessageWithParts } from './normalize';

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class MessageMirror {
  private readonly messages = new Map<string, { info: Message; parts: Map<string, Part> }>();
  /** Something was missed or could not be placed: the mirror must not be trusted. */
  gap = false;

  message(info: Message): void {
    this.messages.set(info.id, { info, parts: this.messages.get(info.id)?.parts ?? new Map() });
  }

  part(part: Part): void {
    const held = this.messages.get(part.messageID);
    if (held) held.parts.set(part.id, part);
    else this.gap = true;
  }

  delta(messageID: string, partID: string, field: string, delta: string): void {
    const parts = this.messages.get(messageID)?.parts;
    const held = parts?.get(partID) as Record<string, unknown> | undefined;
    if (parts && held && typeof held[field] === 'string') parts.set(partID, { ...held, [field]: String(held[field]) + delta } as Part);
    else this.gap = true;
  }

  /** Every message seen, in id (time) order, each with its parts in id order (as the messages API lists them). */
  all(): MessageWithParts[] {
    return [...this.messages.values()]
      .map((m) => ({ info: m.info, parts: [...m.parts.values()].sort(byId) }))
      .sort((a, b) => byId(a.info, b.info));
  }
}
