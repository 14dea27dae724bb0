import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import type { SessionEventStore } from "./redis-event-store.js";

/** Events kept per stream; older ones can no longer be replayed. */
const MAX_EVENTS_PER_STREAM = 1_000;

/**
 * Resumable SSE streams for one session (each session owns its store, so a `Last-Event-ID` can
 * only ever replay that session's events). Event ids encode their stream: `<stream>.<sequence>`.
 */
export class MemoryEventStore implements SessionEventStore {
  private readonly streams = new Map<string, { id: string; message: JSONRPCMessage }[]>();
  private sequence = 0;

  storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}.${++this.sequence}`;
    let events = this.streams.get(streamId);
    if (events === undefined) {
      events = [];
      this.streams.set(streamId, events);
    }
    events.push({ id, message });
    if (events.length > MAX_EVENTS_PER_STREAM) events.shift();
    return Promise.resolve(id);
  }

  getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    const dot = eventId.lastIndexOf(".");
    const streamId = dot > 0 ? eventId.slice(0, dot) : undefined;
    return Promise.resolve(streamId !== undefined && this.streams.has(streamId) ? streamId : undefined);
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const streamId = await this.getStreamIdForEventId(lastEventId);
    const events = streamId === undefined ? undefined : this.streams.get(streamId);
    if (streamId === undefined || events === undefined) return "";
    let after = false;
    for (const event of events) {
      if (after && Object.keys(event.message).length > 0) await send(event.id, event.message);
      if (event.id === lastEventId) after = true;
    }
    return streamId;
  }

  dispose(): Promise<void> {
    this.streams.clear();
    return Promise.resolve();
  }
}
