/**
 * The course's services against this one, with this service's default config: the course author's
 * own `Listener` and `Publisher` (`@sgtickets/common`, unmodified) on `nats-streaming-jetstream`, the
 * real Temporal dev server, nats-server and both databases. An order walks every path (expiry with
 * its reminder, cancel, payment, late payment), and every event a course service consumes must carry
 * the version its code expects: the payments service finds its copy at `version - 1`, every time.
 */
import type { Stan } from 'node-nats-streaming';
import { Subjects } from '../../src/orders/catalogue';
import { sessionCookieForUser } from '../support/auth';
import { CoreNatsPeer, type Recorder } from '../support/nats';
import { newId } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';
import { PaymentCreatedPublisher, PaymentsService, TicketCreatedPublisher, TicketsService } from './siblings';
import { closeAllStans, eventually, openStan } from './stan-helpers';

interface ApiOrder {
  id: string;
  status: string;
  version: number;
  ticket: { id: string };
}

const ORDER_SUBJECTS = [
  Subjects.OrderCreated,
  Subjects.OrderUpdated,
  Subjects.OrderCancelled,
  Subjects.OrderExpiring,
  Subjects.ExpirationComplete,
  Subjects.PaymentRejected,
];

describe.each(['sqlite', 'postgres'] as const)(
  'the course services against this one on %s, default config',
  (database) => {
    let system: TestSystem;
    let stan: Stan;
    let tickets: TicketsService;
    let payments: PaymentsService;
    let peer: CoreNatsPeer;
    let events: Recorder;
    const user = newId();
    const as = (userId: string) => ({ headers: { cookie: sessionCookieForUser(userId) } });

    beforeAll(async () => {
      jest.spyOn(console, 'log').mockImplementation(() => undefined); // the course's classes log every message
      // Only the timing differs from the defaults (a window of 900 s, a reminder 120 s before it), so
      // that every path ends within the test; every feature switch is as it ships.
      system = await startSystem({ database, expirationSeconds: 3, env: { ORDER_EXPIRING_REMINDER_SECONDS: '1' } });
      stan = await openStan(system.config.nats.url, 'ticketing', `course-${newId()}`);
      tickets = new TicketsService(stan);
      payments = new PaymentsService(stan);
      peer = await CoreNatsPeer.connect(system.config.nats.url);
      events = peer.record(ORDER_SUBJECTS);
    });

    afterAll(async () => {
      events?.stop();
      await peer?.close();
      await closeAllStans();
      await system?.stop();
    });

    const found = <T>(probe: () => T | undefined | false, what: string) =>
      eventually(() => Promise.resolve(probe() || undefined), what);
    const getOrder = async (id: string) =>
      (await system.request('GET', `/api/orders/${id}`, as(user))).body as ApiOrder;
    const eventsAbout = (orderId: string) =>
      events.messages
        .filter((m) => m.data.id === orderId || m.data.orderId === orderId)
        .map((m) => `${m.subject}@${String(m.data.version ?? '-')}`);

    /** The tickets service's ticket:created, then a POST once the service has its copy; both siblings see the order. */
    async function orderedTicket(price = 10): Promise<ApiOrder> {
      const ticket = { id: newId(), version: 0, title: 'concert', price, userId: newId() };
      await new TicketCreatedPublisher(stan).publish(ticket);
      const reply = await eventually(async () => {
        const res = await system.request('POST', '/api/orders', { ...as(user), body: { ticketId: ticket.id } });
        return res.status === 404 ? undefined : res;
      }, `the service to know ticket ${ticket.id}`);
      expect(reply.status).toBe(201);
      const order = reply.body as ApiOrder;
      await found(() => tickets.orderOf.get(ticket.id) === order.id, 'the tickets service to mark the ticket');
      expect(await found(() => payments.orders.get(order.id), 'the payments service to copy the order')).toEqual({
        id: order.id,
        version: 0,
        status: 'created',
        userId: user,
        price,
      });
      return order;
    }

    async function cancelledEverywhere(order: ApiOrder): Promise<void> {
      await found(() => payments.orders.get(order.id)?.status === 'cancelled', 'the payments copy to be cancelled');
      expect(payments.orders.get(order.id)?.version).toBe(1);
      await found(() => !tickets.orderOf.get(order.ticket.id), 'the tickets service to free the ticket');
      expect(await getOrder(order.id)).toMatchObject({ status: 'cancelled', version: 1 });
    }

    test('when nobody pays, then the reminder, the expiry and order:cancelled at version 1, which the payments copy applies', async () => {
      const order = await orderedTicket();
      await cancelledEverywhere(order);
      expect(eventsAbout(order.id)).toEqual([
        'order:created@0',
        'order:expiring@0',
        'expiration:complete@-',
        'order:cancelled@1',
      ]);
    });

    test('when the holder cancels, then order:cancelled at version 1, which the payments copy applies', async () => {
      const order = await orderedTicket();
      expect((await system.request('DELETE', `/api/orders/${order.id}`, as(user))).status).toBe(204);
      await cancelledEverywhere(order);
      expect(eventsAbout(order.id)).toEqual(['order:created@0', 'order:cancelled@1']);
    });

    test("when the course's payments service publishes payment:created, then the order is complete and its ticket stays sold", async () => {
      const order = await orderedTicket();
      await new PaymentCreatedPublisher(stan).publish({ id: newId(), orderId: order.id, stripeId: `ch_${newId()}` });
      await eventually(
        async () => ((await getOrder(order.id)).status === 'complete' ? true : undefined),
        'the order to complete',
      );
      const again = await system.request('POST', '/api/orders', {
        ...as(newId()),
        body: { ticketId: order.ticket.id },
      });
      expect(again).toEqual({ status: 400, body: { errors: [{ message: 'Ticket is already reserved' }] } });
      expect(await getOrder(order.id)).toMatchObject({ status: 'complete', version: 1 });
      expect(tickets.orderOf.get(order.ticket.id)).toBe(order.id);
    });

    test('when a payment comes after the expiry, then it is refused with payment:rejected and the order stays cancelled at version 1', async () => {
      const order = await orderedTicket();
      await cancelledEverywhere(order);
      const late = { id: newId(), orderId: order.id, stripeId: `ch_${newId()}` };
      await new PaymentCreatedPublisher(stan).publish(late);
      expect(await events.waitFor(Subjects.PaymentRejected, (d) => d.id === late.id)).toMatchObject(late);
      expect(await getOrder(order.id)).toMatchObject({ status: 'cancelled', version: 1 });
    });

    test('when the holder asks for an extension and then cancels, then the extension is refused (opt-in) and the cancel is at version 1', async () => {
      const order = await orderedTicket();
      const res = await system.request('POST', `/api/orders/${order.id}/extend`, as(user));
      expect(res).toEqual({
        status: 409,
        body: { errors: [{ message: 'The hold of this order cannot be extended' }] },
      });
      expect((await system.request('DELETE', `/api/orders/${order.id}`, as(user))).status).toBe(204);
      await cancelledEverywhere(order); // after an extension (version 1) the payments copy would be two behind
    });

    test("then no event bumped a version behind the course's back: every version - 1 lookup found its copy", () => {
      expect(events.messages.filter((m) => m.subject === Subjects.OrderUpdated)).toEqual([]);
      expect(payments.misses).toEqual([]);
    });
  },
);
