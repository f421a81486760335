import { createHash, randomBytes } from 'node:crypto';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Claims, TokenService } from '../auth';
import type { Presence } from '../calls';
import type { LinksConfig } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logging';
import type { Clock } from '../util';
import { linkRoomId, type CallLinks } from './CallLinks';
import type { Knock, Knocker, Knocks } from './Knocks';

/** What a revoked, expired, unknown or malformed link answers: one and the same, so nothing tells them apart. */
export const NO_SUCH_LINK = 'no such call link';
const NO_SUCH_KNOCK = 'no such knock';
/** How long a settled knock stays for its knocker to learn the answer. */
const ANSWER_KEPT_MS = 60_000;

/** Whoever opens a link: a guest with a name, or an account (its token's claims). */
export type Visitor = { kind: 'guest'; name: string } | { kind: 'account'; claims: Claims };

/** A way into the link's call: its room and a token for exactly that room. */
export type Entry = { state: 'admitted'; roomId: string; token: string };

/** A knock as the owner's devices see it. */
export type KnockView = { linkId: string; knockId: string; title: string; name: string; handle?: string; verified: boolean; guest: boolean };

/**
 * The way into a link's call (docs/http-api.md, call links): anyone with a
 * link that admits `anyone`, and its owner always, get a token for the
 * link's room at once; anyone else knocks. A knock reaches every device of
 * the owner (`knock`); the owner admits or denies it, and the knocker, who
 * asks after it, gets a token or the denial. A denied address may not knock
 * on that link again for `links.knockCoolDownSeconds`. The room tokens name
 * exactly the link's room, whose peers are all end-to-end encrypted
 * (signaling/Session.ts): the secret is in the link's fragment, never here.
 */
export class LinkLobby {
	readonly #links: CallLinks;
	readonly #knocks: Knocks;
	readonly #tokens: TokenService;
	readonly #presence: Presence;
	readonly #coolDown: RateLimiterAbstract;
	readonly #config: LinksConfig;
	readonly #clock: Clock;
	readonly #logger: Logger;

	constructor(deps: {
		links: CallLinks; knocks: Knocks; tokens: TokenService; presence: Presence; coolDown: RateLimiterAbstract;
		config: LinksConfig; clock: Clock; logger: Logger;
	}) {
		this.#links = deps.links;
		this.#knocks = deps.knocks;
		this.#tokens = deps.tokens;
		this.#presence = deps.presence;
		this.#coolDown = deps.coolDown;
		this.#config = deps.config;
		this.#clock = deps.clock;
		this.#logger = deps.logger.child({ module: 'links' });
	}

	/**
	 * `visitor` opens the link `id` from `address`: in at once, or a knock that waits.
	 * @throws not_found for a link that is not live; rate_limited for an address in its cool-down
	 */
	async enter(id: string, visitor: Visitor, address: string): Promise<Entry | { state: 'waiting'; knockId: string }> {
		const found = await this.#links.use(id);
		if (!found) {
			throw new AppError('not_found', NO_SUCH_LINK);
		}
		const { link, owner } = found;
		const knocker = knockerOf(visitor);
		const sub = knocker.kind === 'account' ? knocker.userId : `guest-${randomBytes(12).toString('base64url')}`;
		if (link.admit === 'anyone' || sub === owner.id) {
			return this.#entry(id, sub, knocker);
		}
		const addressKey = createHash('sha256').update(address).digest('base64url');
		if (this.#config.knockCoolDownSeconds > 0 && ((await this.#coolDown.get(`${id}|${addressKey}`))?.consumedPoints ?? 0) > 0) {
			throw new AppError('rate_limited', 'you may not knock on this link again yet; try again later');
		}
		const knock: Knock = { id: randomBytes(16).toString('base64url'), linkId: id, ownerId: owner.id, sub, knocker, at: this.#clock.now(), addressKey, state: 'waiting' };
		await this.#knocks.add(knock, this.#config.knockWaitSeconds * 1000);
		this.#presence.notifyUser(owner.id, 'knock', view(knock, link.title));
		this.#logger.debug('knock', { knockId: knock.id, guest: knocker.kind === 'guest' });
		return { state: 'waiting', knockId: knock.id };
	}

	/**
	 * What became of the knock `knockId` on the link `id`, for its knocker.
	 * @throws not_found for a knock that is over (answered a while ago, or past its wait) or never was
	 */
	async knock(id: string, knockId: string): Promise<Entry | { state: 'waiting' | 'denied' }> {
		const knock = await this.#knocks.get(knockId);
		if (knock?.linkId !== id) {
			throw new AppError('not_found', NO_SUCH_KNOCK);
		}
		return knock.state === 'admitted' ? this.#entry(id, knock.sub, knock.knocker) : { state: knock.state };
	}

	/** The knocker gives up: the owner's devices drop the knock. */
	async withdraw(id: string, knockId: string): Promise<void> {
		const removed = await this.#knocks.remove(knockId, id);
		if (removed) {
			this.#presence.notifyUser(removed.ownerId, 'knockEnded', { linkId: id, knockId });
		}
	}

	/** The knocks that wait on the owner's link `id`. @throws not_found for a link that is not the owner's */
	async waiting(ownerId: string, id: string): Promise<KnockView[]> {
		const link = await this.#own(ownerId, id);
		return (await this.#knocks.waiting(id)).map((knock) => view(knock, link.title));
	}

	/**
	 * The owner admits or denies a knock on its link `id`; its devices drop it.
	 * @throws not_found for a link that is not the owner's, or a knock that no longer waits
	 */
	async answer(ownerId: string, id: string, knockId: string, admit: boolean): Promise<void> {
		await this.#own(ownerId, id);
		const knock = await this.#knocks.settle(knockId, id, admit ? 'admitted' : 'denied', ANSWER_KEPT_MS);
		if (!knock) {
			throw new AppError('not_found', NO_SUCH_KNOCK);
		}
		if (!admit && this.#config.knockCoolDownSeconds > 0) {
			await this.#coolDown.penalty(`${id}|${knock.addressKey}`, 1).catch((error: unknown) => {
				this.#logger.warn('knock cool-down not recorded', { error: (error as Error).message });
			});
		}
		this.#presence.notifyUser(ownerId, 'knockEnded', { linkId: id, knockId });
	}

	async #own(ownerId: string, id: string) {
		const link = (await this.#links.list(ownerId)).find((candidate) => candidate.id === id);
		if (!link) {
			throw new AppError('not_found', NO_SUCH_LINK);
		}
		return link;
	}

	async #entry(id: string, sub: string, knocker: Knocker): Promise<Entry> {
		const roomId = linkRoomId(id);
		const token = await this.#tokens.issue(knocker.kind === 'guest'
			? { sub, name: knocker.name, rooms: [roomId] }
			: { sub, handle: knocker.handle, name: knocker.displayName, verified: knocker.verified, rooms: [roomId], ...(knocker.sid ? { psid: knocker.sid } : {}) });
		return { state: 'admitted', roomId, token };
	}
}

function knockerOf(visitor: Visitor): Knocker {
	if (visitor.kind === 'guest') {
		return visitor;
	}
	const { claims } = visitor;
	return {
		kind: 'account', userId: claims.sub, handle: claims.handle ?? '', displayName: claims.name ?? claims.handle ?? '',
		verified: claims.verified, sid: claims.sid,
	};
}

function view(knock: Knock, title: string): KnockView {
	const { knocker } = knock;
	return knocker.kind === 'guest'
		? { linkId: knock.linkId, knockId: knock.id, title, name: knocker.name, verified: false, guest: true }
		: { linkId: knock.linkId, knockId: knock.id, title, name: knocker.displayName, handle: knocker.handle, verified: knocker.verified, guest: false };
}
