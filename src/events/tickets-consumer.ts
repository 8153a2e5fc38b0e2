import { Subjects } from '../orders/catalogue';
import { TicketCreatedEvent, TicketUpdatedEvent } from './incoming';
import type { TicketStore } from '../store/tickets';
import { done, handler, later } from './consumer';

/** This service's copy of tickets. An update applies only as the next version; an early one comes again later. */
export function ticketHandlers(tickets: Pick<TicketStore, 'upsert' | 'applyUpdate'>) {
  return {
    [Subjects.TicketCreated]: handler(TicketCreatedEvent, async ({ id, title, price, version }) => {
      await tickets.upsert({ id, title, price, version });
      return done;
    }),
    [Subjects.TicketUpdated]: handler(TicketUpdatedEvent, async ({ id, title, price, version }) => {
      const result = await tickets.applyUpdate({ id, title, price, version });
      if (result === 'applied' || result === 'already-applied') return done;
      return later(`ticket ${id} version ${version} arrived before the previous version (${result})`);
    }),
  };
}
