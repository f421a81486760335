import { createHash, randomBytes } from 'node:crypto';
import type { LinksConfig } from '../config';
import { AppError } from '../errors';
import type { CallLink, PublicUser, Store, User } from '../store';
import type { Clock } from '../util';

const DAY_MS = 86_400_000;
/** Random bytes in a link id: 128 bits, 22 characters of base64url. */
const LINK_ID_BYTES = 16;

/** Who joins a link's call without knocking: anyone with the link, or only its owner. */
export type LinkAdmit = CallLink['admit'];

/** A live link as its owner sees it: the link, and when it expires unless used before. */
export type OwnLink = CallLink & { expiresAt: number };

/** A live link as anyone with it sees it: its title, who may join, and whose it is. */
export type LinkLookup = { title: string; admit: LinkAdmit; owner: PublicUser };

/** Rooms of link calls are `link-<digest>`: the prefix is reserved, and only a token for exactly that room joins one. */
export const LINK_ROOM_PREFIX = 'link-';

/** Whether `roomId` names a link's call, which only a token naming exactly that room may join, with e2ee. */
export function isLinkRoom(roomId: string): boolean {
	return roomId.startsWith(LINK_ROOM_PREFIX);
}

/**
 * The room of the link `id`'s call: a digest of the id, so that a room id in
 * a log or a metric does not open the link.
 */
export function linkRoomId(id: string): string {
	return `${LINK_ROOM_PREFIX}${createHash('sha256').update(`switchyard link room\0${id}`).digest('base64url').slice(0, 32)}`;
}

/**
 * Call links (docs/http-api.md, call links): an account makes a link to a
 * group call (`/l/<id>`), lists and revokes its own; anyone with the link
 * looks it up. A link nobody looked up for `links.unusedDays` is expired:
 * it is left out, deleted when seen, and answers as one that never existed.
 * NOTE: the end-to-end secret of a link's call is made in the owner's browser
 * and lives only in the link's fragment (`/l/<id>#e2ee=...`): nothing here
 * ever sees it. The links live in the store, so every node of a fleet knows them.
 */
export class CallLinks {
	readonly #store: Store;
	readonly #config: Pick<LinksConfig, 'unusedDays' | 'perAccount'>;
	readonly #clock: Clock;

	constructor(deps: { store: Store; config: LinksConfig; clock: Clock }) {
		this.#store = deps.store;
		this.#config = deps.config;
		this.#clock = deps.clock;
	}

	/**
	 * A new link of `ownerId` with a random id.
	 * @throws conflict when the account has `links.perAccount` live links already
	 */
	async create(ownerId: string, { admit, title }: { admit: LinkAdmit; title: string }): Promise<OwnLink> {
		// NOTE: counted, then written: two creates at once may pass the limit by one. It bounds a
		// table's growth per account, it is no security boundary.
		if ((await this.list(ownerId)).length >= this.#config.perAccount) {
			throw new AppError('conflict', `an account has at most ${this.#config.perAccount} call links: revoke one first`);
		}
		const id = randomBytes(LINK_ID_BYTES).toString('base64url');
		return this.#own(await this.#store.createLink({ id, ownerId, admit, title, at: this.#clock.now() }));
	}

	/** The account's live links, newest first; its expired ones are deleted. */
	async list(ownerId: string): Promise<OwnLink[]> {
		const live: OwnLink[] = [];
		for (const link of await this.#store.links(ownerId)) {
			if (this.#expired(link)) {
				await this.#store.deleteLink(ownerId, link.id);
			} else {
				live.push(this.#own(link));
			}
		}
		return live;
	}

	/** Deletes the account's link `id`, if it has one (the same either way). */
	async revoke(ownerId: string, id: string): Promise<void> {
		await this.#store.deleteLink(ownerId, id);
	}

	/**
	 * The live link `id`, which counts as a use (it moves the expiry); undefined for one that is
	 * revoked, expired (and then deleted) or was never made.
	 */
	async lookup(id: string): Promise<LinkLookup | undefined> {
		const found = await this.use(id);
		return found && { title: found.link.title, admit: found.link.admit, owner: publicUser(found.owner) };
	}

	/** The live link `id` and its owner, which counts as a use (LinkLobby); undefined as for `lookup`. */
	async use(id: string): Promise<{ link: CallLink; owner: User } | undefined> {
		const link = await this.#store.link(id);
		if (!link) {
			return undefined;
		}
		if (this.#expired(link)) {
			await this.#store.deleteLink(link.ownerId, link.id);
			return undefined;
		}
		const owner = await this.#store.userById(link.ownerId);
		if (!owner) {
			return undefined;
		}
		await this.#store.touchLink(link.id, this.#clock.now());
		return { link, owner };
	}

	#expiresAt(link: CallLink): number {
		return link.lastUsedAt + this.#config.unusedDays * DAY_MS;
	}

	#expired(link: CallLink): boolean {
		return this.#clock.now() >= this.#expiresAt(link);
	}

	#own(link: CallLink): OwnLink {
		return { ...link, expiresAt: this.#expiresAt(link) };
	}
}

function publicUser(user: User): PublicUser {
	return { handle: user.handle, displayName: user.displayName, verified: user.verified };
}
