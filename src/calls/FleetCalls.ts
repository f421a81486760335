import type { Redis } from 'ioredis';
import { clusterUnavailable, nodeRun, parseRun, type Bus, type NodeRegistry } from '../cluster';
import { NotFoundError } from '../errors';
import type { Logger } from '../logging';
import type { Store, User } from '../store';
import type { Clock } from '../util';
import { Call } from './Call';
import { CALL_ENTRY_VERSION, callEntrySchema, callReplySchemas, callRequestSchemas, partyRemovedSchema, recheckSchema } from './callEntry';
import type { CallService } from './CallService';
import { snapshotParty, type CallFleet, type CallSnapshot, type RemoteCallRequest, type RemoteCallRequests } from './fleet';
import type { Presence } from './Presence';

/** How long a call's entries outlive its last change: past it, one that nobody removed (a lost fleet) is gone. */
const ENTRY_TTL_SECONDS = 24 * 3600;

/**
 * Takes a dead run's call over: the entry's owner becomes this run, and the
 * call moves to this node's set, if the entry is still the dead run's.
 * KEYS: the entry, the dead node's set, this node's set. ARGV: the dead run,
 * this run, the call's id. Returns the entry's call, or false.
 */
const TAKE_OVER = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
	redis.call('SREM', KEYS[2], ARGV[3])
	return false
end
redis.call('HSET', KEYS[1], 'owner', ARGV[2])
redis.call('SMOVE', KEYS[2], KEYS[3], ARGV[3])
return redis.call('HGET', KEYS[1], 'call')
`;

/**
 * The calls of a fleet, in Redis, as one node's CallService sees them
 * (calls/fleet.ts's CallFleet). Keys:
 * - `PREFIX call:ID`: a hash of the call as its owner last published it
 *   (`call`, callEntry.ts) and its owner's run (`owner`: `NODE@STARTED`),
 * - `PREFIX calls:NODE`: the calls a node owns,
 * - `PREFIX party:USER`: the calls an account is a party of.
 *
 * Requests for a call go to its owner over the bus. When a node is gone, the
 * first of the others to swap the owner of each of its calls (one Lua
 * script: exactly one can) takes the call over (CallService.takeOver); a node
 * that starts again under the same id takes back what its earlier run left.
 */
export class FleetCalls implements CallFleet {
	readonly nodeId: string;
	readonly #redis: Redis;
	readonly #bus: Bus;
	readonly #registry: NodeRegistry;
	readonly #keyPrefix: string;
	readonly #store: Store;
	readonly #presence: Presence;
	readonly #clock: Clock;
	readonly #logger: Logger;
	#calls: CallService | undefined;

	/** `presence`: the node's (a request names the device it comes from); `clock`: the calls'. */
	constructor(deps: { redis: Redis; bus: Bus; registry: NodeRegistry; keyPrefix: string; store: Store; presence: Presence; clock: Clock; logger: Logger }) {
		this.nodeId = deps.registry.nodeId;
		this.#redis = deps.redis;
		this.#bus = deps.bus;
		this.#registry = deps.registry;
		this.#keyPrefix = deps.keyPrefix;
		this.#store = deps.store;
		this.#presence = deps.presence;
		this.#clock = deps.clock;
		this.#logger = deps.logger.child({ module: 'calls', nodeId: this.nodeId });
	}

	/**
	 * Answers the other nodes' requests for the calls `calls` owns, hears
	 * their casts, takes over the calls of nodes that go, and takes back those
	 * this node's earlier run left.
	 */
	serve(calls: CallService): void {
		this.#calls = calls;
		const device = (id: string) => this.#presence.device(id);
		// NOTE: only for a call this node owns: asking the owner again from here could go round in circles.
		const owned = (callId: string) => {
			if (!calls.owns(callId)) {
				throw new NotFoundError('no such call');
			}
		};
		const { accept, decline, cancel, hangup, token } = callRequestSchemas;
		this.#bus.handle('call.accept', accept, async (a) => (owned(a.callId), calls.accept(a.party, device(a.device), a.callId, a.identity)));
		this.#bus.handle('call.decline', decline, async (a) => (owned(a.callId), await calls.decline(a.party, device(a.device), a.callId), null));
		this.#bus.handle('call.cancel', cancel, async (a) => (owned(a.callId), await calls.cancel(a.party, a.callId), null));
		this.#bus.handle('call.hangup', hangup, async (a) => (owned(a.callId), await calls.hangup(a.party, a.callId), null));
		this.#bus.handle('call.token', token, async (a) => (owned(a.callId), calls.token(a.party, a.callId)));
		this.#bus.listen('call.partyRemoved', partyRemovedSchema, (removal) => calls.remotePartyRemoved(removal));
		this.#bus.listen('call.recheck', recheckSchema, ({ userId }) => void calls.recheck(userId, { fleet: false }));
		this.#registry.observer.on('nodeGone', (nodeId, startedAt) => void this.#takeOver(nodeId, nodeRun({ id: nodeId, startedAt })));
		void this.#takeOver(this.nodeId, undefined);
	}

	async save(call: CallSnapshot): Promise<void> {
		const key = this.#key(`call:${call.id}`);
		const multi = this.#redis.multi()
			.hset(key, 'owner', this.#registry.run, 'call', JSON.stringify({ v: CALL_ENTRY_VERSION, ...call }))
			.expire(key, ENTRY_TTL_SECONDS)
			.sadd(this.#key(`calls:${this.nodeId}`), call.id);
		for (const userId of [call.caller.id, ...call.legs.map((leg) => leg.id)]) {
			const parties = this.#key(`party:${userId}`);
			if (snapshotParty(call, userId) === undefined) {
				multi.srem(parties, call.id);
			} else {
				multi.sadd(parties, call.id).expire(parties, ENTRY_TTL_SECONDS);
			}
		}
		const result = await multi.exec().catch((error: unknown) => {
			throw clusterUnavailable(error);
		});
		const failed = result?.find(([error]) => error);
		if (!result || failed) {
			throw clusterUnavailable(failed?.[0] ?? new Error('the transaction was discarded'));
		}
	}

	remove(call: CallSnapshot): void {
		const multi = this.#redis.multi().del(this.#key(`call:${call.id}`)).srem(this.#key(`calls:${this.nodeId}`), call.id);
		for (const userId of [call.caller.id, ...call.legs.map((leg) => leg.id)]) {
			multi.srem(this.#key(`party:${userId}`), call.id);
		}
		multi.exec().catch((error: unknown) => this.#logger.warn('call entry not removed', { callId: call.id, error: (error as Error).message }));
	}

	async get(callId: string): Promise<CallSnapshot | undefined> {
		const [owner, text] = await this.#redis.hmget(this.#key(`call:${callId}`), 'owner', 'call').catch((error: unknown) => {
			throw clusterUnavailable(error);
		});
		return owner == null || text == null ? undefined : this.#parse(text, owner);
	}

	async partyCalls(userId: string): Promise<CallSnapshot[]> {
		const ids = await this.#redis.smembers(this.#key(`party:${userId}`)).catch((error: unknown) => {
			throw clusterUnavailable(error);
		});
		const calls: CallSnapshot[] = [];
		for (const id of ids) {
			const call = await this.get(id);
			if (call && call.owner !== this.nodeId && snapshotParty(call, userId) !== undefined) {
				calls.push(call);
			}
		}
		return calls;
	}

	async send<R extends RemoteCallRequest>(call: CallSnapshot, request: R, args: RemoteCallRequests[R]['args']): Promise<RemoteCallRequests[R]['result']> {
		if (!await this.#registry.findLive(call.owner)) {
			// Gone: the call is being taken over; the client tries again shortly.
			throw clusterUnavailable(new Error(`the owner ${call.owner} of the call is gone`));
		}
		const result = await this.#bus.request(call.owner, `call.${request}`, { callId: call.id, ...args }, callReplySchemas[request]);
		return result as RemoteCallRequests[R]['result'];
	}

	partyRemoved(removal: { callId: string; roomId: string; userId: string; reason: 'hangup' | 'callEnded' }): void {
		this.#bus.cast('call.partyRemoved', removal);
	}

	recheck(userId: string): void {
		this.#bus.cast('call.recheck', { userId });
	}

	/** Publishes every call this node owns again: Redis came back after a restart that forgot them. */
	republish(): void {
		for (const call of this.#calls?.snapshots() ?? []) {
			this.save(call).catch((error: unknown) => this.#logger.warn('call state not published', { callId: call.id, error: (error as Error).message }));
		}
	}

	/**
	 * Takes over the calls of node `nodeId`'s run `run` (undefined: any run of
	 * this node but this one), each that no other node took first.
	 */
	async #takeOver(nodeId: string, run: string | undefined): Promise<void> {
		try {
			const from = this.#key(`calls:${nodeId}`);
			for (const callId of await this.#redis.smembers(from)) {
				const key = this.#key(`call:${callId}`);
				const owner = run ?? await this.#redis.hget(key, 'owner');
				if (owner === null || owner === this.#registry.run) {
					continue;
				}
				const text = await this.#redis.eval(TAKE_OVER, 3, key, from, this.#key(`calls:${this.nodeId}`), owner, this.#registry.run, callId) as string | null;
				const call = text === null ? undefined : this.#parse(text, this.#registry.run);
				const restored = call && await this.#restore(call);
				if (restored) {
					await this.#calls?.takeOver(restored);
				}
			}
		} catch (error) {
			this.#logger.warn('calls of a gone node not taken over', { gone: nodeId, error: (error as Error).message });
		}
	}

	/** The call as another node last published it, with its accounts read again; undefined when its caller is gone. */
	async #restore(snapshot: CallSnapshot): Promise<Call | undefined> {
		const users = new Map<string, User>();
		for (const id of [snapshot.caller.id, ...snapshot.legs.map((leg) => leg.id)]) {
			const user = await this.#store.userById(id);
			if (user) {
				users.set(id, user);
			}
		}
		if (!users.has(snapshot.caller.id)) {
			this.#logger.warn('call not taken over: its caller is gone', { callId: snapshot.id });
			return undefined;
		}
		return Call.restore(snapshot, users, { callerDevice: this.#presence.device(snapshot.caller.device), clock: this.#clock, logger: this.#logger });
	}

	/** An entry's call, or undefined (and a warning) when it does not parse. `owner`: the entry's owner run. */
	#parse(text: string, owner: string): CallSnapshot | undefined {
		try {
			const parsed = callEntrySchema.safeParse(JSON.parse(text));
			if (parsed.success) {
				const { v: _v, ...call } = parsed.data;
				return { ...call, owner: parseRun(owner)?.id ?? owner };
			}
		} catch {
			// Not JSON: refused below.
		}
		this.#logger.warn('cluster call entry refused', { bytes: text.length });
		return undefined;
	}

	#key(name: string): string {
		return `${this.#keyPrefix}${name}`;
	}
}
