import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { secretEquals, type Claims, type TokenService } from '../auth';
import type { AccountsConfig, AuthConfig } from '../config';
import { AppError, NotFoundError } from '../errors';
import type { Logger } from '../logging';
import type { CallRecord, DeviceKey, HistoryCursor, PublicUser, RelationKind, Session, Store, User, UserSettings } from '../store';
import { TypedEmitter } from '../util';
import { checkDevicePublicKey } from './devicePublicKey';
import { hashPassword, verifyPassword } from './passwords';

/**
 * A refresh token used again this soon after its rotation gets that rotation's
 * answer again (the same new refresh token), and is not taken for a theft.
 */
const REUSE_GRACE_MS = 10_000;

/** A published device of the account, as its owner sees it: `current` is the caller's own login session's. */
export type OwnDevice = Omit<DeviceKey, 'sessionId'> & { current: boolean };

/** What signup, login and refresh return. */
export type LoginResult = { token: string; refreshToken: string; expiresIn: number; user: PublicUser };

export type AccountServiceEvents = {
	/** A relation of `ownerId` towards `targetId` was added or removed. */
	relationChanged: [ownerId: string, targetId: string, kind: RelationKind];
	settingsChanged: [userId: string];
	accountDeleted: [userId: string];
	/**
	 * Login sessions of `userId` ended: one (`sessionId`, a logout), all but
	 * one (`except`, a password change) or all (neither, a deletion). Live
	 * connections made with their tokens must end too.
	 */
	sessionsEnded: [userId: string, which: { sessionId?: string; except?: string }];
};

export type AccountServiceDeps = {
	store: Store;
	tokens: TokenService;
	config: { auth: AuthConfig; accounts: AccountsConfig };
	logger: Logger;
};

/**
 * Accounts by handle: sign-up, login with refresh-token rotation, logout,
 * password change, deletion, relations and settings. It also authenticates
 * every token the node sees: an account token's login session must still be
 * live, so a logout or password change revokes the tokens of that session.
 */
export class AccountService {
	/** Changes that running calls must follow (a block stops ringing). */
	readonly observer: TypedEmitter<AccountServiceEvents>;
	readonly #store: Store;
	readonly #tokens: TokenService;
	readonly #config: AccountServiceDeps['config'];
	readonly #logger: Logger;
	/** Compared against when a handle does not exist, so timing does not tell. */
	#dummyHash: Promise<string> | undefined;

	constructor(deps: AccountServiceDeps) {
		this.#store = deps.store;
		this.#tokens = deps.tokens;
		this.#config = deps.config;
		this.#logger = deps.logger.child({ module: 'accounts' });
		this.observer = new TypedEmitter((event, error) => this.#logger.error('accounts listener failed', { event, error }));
	}

	/**
	 * Verifies a token; an account token's session must be live, and so must
	 * the session a call's room token was issued to (`psid`); a token that
	 * names an account's handle without either must name a live account: a
	 * deleted account's tokens stop at once.
	 * @throws unauthorized
	 */
	async authenticate(token: string): Promise<Claims> {
		const claims = await this.#tokens.verify(token);
		// An account token's own session, or the session a call's room token was issued to.
		const sessionId = claims.sid ?? claims.psid;
		if (sessionId) {
			const session = await this.#sessionForToken(claims, sessionId);
			if (session === 'unchecked') {
				return claims;
			}
			if (!session || session.revoked || session.userId !== claims.sub) {
				throw new AppError('unauthorized', 'the session has ended');
			}
		} else if (claims.handle !== undefined) {
			const user = await this.#store.userById(claims.sub);
			if (!user || user.handle !== claims.handle) {
				throw new AppError('unauthorized', 'the account is gone');
			}
		}
		return claims;
	}

	/**
	 * The login session a token names. NOTE: a call's room token (`psid`) is let
	 * through unchecked while the store cannot answer, so that a party whose
	 * connection drops during an outage can rejoin its call: the room itself
	 * still admits only a current party of the live call, on that session
	 * (CallService.mayJoinRoom, in memory), and no session can be revoked
	 * meanwhile. An account token (`sid`) opens account routes: it answers 503.
	 */
	async #sessionForToken(claims: Claims, sessionId: string): Promise<Session | undefined | 'unchecked'> {
		try {
			return await this.#store.session(sessionId);
		} catch (error) {
			if (claims.sid === undefined && error instanceof AppError && error.code === 'service_unavailable') {
				this.#logger.warn('room token let through unchecked: store unavailable', { userId: claims.sub });
				return 'unchecked';
			}
			throw error;
		}
	}

	async signup({ handle, password, displayName }: { handle: string; password: string; displayName: string }): Promise<LoginResult> {
		const passwordHash = await hashPassword(password, this.#config.accounts.scryptCost);
		const user = await this.#store.createUser({ handle, displayName, passwordHash });
		this.#logger.info('account created', { userId: user.id, handle });
		return this.#startSession(user);
	}

	/** @throws unauthorized with one message whether the handle or the password is wrong */
	async login({ handle, password }: { handle: string; password: string }): Promise<LoginResult> {
		const user = await this.#store.userByHandle(handle);
		const stored = user ? await this.#store.passwordHash(user.id) : undefined;
		this.#dummyHash ??= hashPassword(randomUUID(), this.#config.accounts.scryptCost);
		const ok = await verifyPassword(password, stored ?? await this.#dummyHash);
		if (!user || !stored || !ok) {
			throw new AppError('unauthorized', 'wrong handle or password');
		}
		return this.#startSession(user);
	}

	/**
	 * A new access token and a new refresh token; the old refresh token stops
	 * working. The new refresh token is derived from the old one under the
	 * node's secret, so the node can give the same one again without storing
	 * it: the token the latest rotation replaced, used again within
	 * `REUSE_GRACE_MS` of it (two tabs refreshing at once, a retry after a lost
	 * answer, or a thief and its victim), gets that rotation's refresh token
	 * (and a new access token). Whoever of them rotates it next makes the
	 * other's copy a retired token. A refresh token used again after a rotation
	 * replaced it, outside that grace, was copied (the OAuth 2.0 security BCP's
	 * reuse detection): the session is revoked, and its live connections end.
	 */
	async refresh(refreshToken: string): Promise<LoginResult> {
		const hash = digest(refreshToken);
		const next = this.#tokens.nextRefreshToken(refreshToken);
		const session = await this.#store.sessionByRefreshHash(hash);
		if (session) {
			const user = await this.#liveUser(session);
			if (await this.#store.rotateSession(session.id, hash, digest(next), this.#refreshExpiry())) {
				return { ...(await this.#accessToken(user, session.id)), refreshToken: next };
			}
			// Another refresh with the same token won the race: it is now the latest retired one.
		}
		return this.#refreshRetired(hash, next);
	}

	/** A refresh with a retired token: the grace's repeated answer, or a reuse that revokes its session. */
	async #refreshRetired(hash: string, next: string): Promise<LoginResult> {
		const session = await this.#store.sessionByRetiredRefreshHash(hash);
		if (!session || session.revoked) {
			throw new AppError('unauthorized', 'invalid refresh token');
		}
		if (session.latest && Date.now() - session.retiredAt < REUSE_GRACE_MS) {
			// NOTE: only while that rotation's token is still the session's: not when the node's secret
			// changed since (a dev-mode restart), then it is just refused.
			const current = await this.#store.sessionByRefreshHash(digest(next));
			if (current?.id !== session.id) {
				throw new AppError('unauthorized', 'invalid refresh token');
			}
			return { ...(await this.#accessToken(await this.#liveUser(current), session.id)), refreshToken: next };
		}
		await this.#store.revokeSession(session.id);
		this.#logger.warn('refresh token reused after rotation: session revoked', { userId: session.userId, sessionId: session.id });
		this.observer.safeEmit('sessionsEnded', session.userId, { sessionId: session.id });
		throw new AppError('unauthorized', 'invalid refresh token');
	}

	/** The account of a session that may still refresh. @throws unauthorized */
	async #liveUser(session: Session): Promise<User> {
		const user = session.revoked || session.expiresAt < Date.now() ? undefined : await this.#store.userById(session.userId);
		if (!user) {
			throw new AppError('unauthorized', 'invalid refresh token');
		}
		return user;
	}

	/** Ends the login session of an account token (its device key goes with it). @throws unauthorized for other tokens */
	async logout(claims: Claims): Promise<void> {
		const user = await this.me(claims);
		await this.#store.revokeSession(claims.sid!);
		this.observer.safeEmit('sessionsEnded', user.id, { sessionId: claims.sid! });
	}

	/** Changes the password and ends every other login session of the account. */
	async changePassword(claims: Claims, currentPassword: string, newPassword: string): Promise<void> {
		const user = await this.me(claims);
		await this.#checkPassword(user, currentPassword);
		await this.#store.setPasswordHash(user.id, await hashPassword(newPassword, this.#config.accounts.scryptCost));
		await this.#store.revokeSessions(user.id, claims.sid);
		this.#logger.info('password changed', { userId: user.id });
		this.observer.safeEmit('sessionsEnded', user.id, { except: claims.sid });
	}

	/** Deletes the account and its data: relations both ways, sessions, device keys. */
	async deleteAccount(claims: Claims, password: string): Promise<void> {
		const user = await this.me(claims);
		await this.#checkPassword(user, password);
		await this.#store.deleteUser(user.id);
		this.#logger.info('account deleted', { userId: user.id });
		this.observer.safeEmit('accountDeleted', user.id);
		this.observer.safeEmit('sessionsEnded', user.id, {});
	}

	/** The account behind an account token. @throws unauthorized for other tokens or a deleted account */
	async me(claims: Claims): Promise<User> {
		const user = claims.sid ? await this.#store.userById(claims.sub) : undefined;
		if (!user) {
			throw new AppError('unauthorized', 'an account token is required');
		}
		return user;
	}

	async byHandle(handle: string): Promise<User> {
		const user = await this.#store.userByHandle(handle);
		if (!user) {
			throw new NotFoundError('no such account');
		}
		return user;
	}

	/**
	 * The directory, for accounts only. NOTE: the same answer for every
	 * searcher: leaving out those who blocked the searcher would tell a caller
	 * that `unavailable` meant a block.
	 */
	async search(claims: Claims, prefix: string, options: { after?: string; limit: number }): Promise<PublicUser[]> {
		await this.me(claims);
		return this.#store.searchUsers({ prefix, ...options });
	}

	/**
	 * Adds or removes a relation. The same answer, and the same work, for an
	 * unknown handle, a hidden account and a listed one: a relation to an
	 * unknown handle stores nothing and never binds to an account that signs
	 * up with it later.
	 * @throws validation_failed for the caller's own handle
	 */
	async setRelation(claims: Claims, kind: RelationKind, handle: string, on: boolean): Promise<void> {
		const user = await this.me(claims);
		if (handle === user.handle) {
			throw new AppError('validation_failed', `cannot ${kind} yourself`);
		}
		const targetId = await this.#store.setRelation(kind, user.id, handle, on);
		if (targetId) {
			this.observer.safeEmit('relationChanged', user.id, targetId, kind);
		}
	}

	async listRelations(claims: Claims, kind: RelationKind): Promise<PublicUser[]> {
		return this.#store.listRelations(kind, (await this.me(claims)).id);
	}

	async updateSettings(claims: Claims, settings: UserSettings): Promise<UserSettings> {
		const user = await this.me(claims);
		const updated = (await this.#store.updateUser(user.id, { settings })).settings;
		this.observer.safeEmit('settingsChanged', user.id);
		return updated;
	}

	/** The account's call history, newest first. */
	async callHistory(claims: Claims, options: { before?: HistoryCursor; limit: number }): Promise<CallRecord[]> {
		return this.#store.callHistory((await this.me(claims)).id, options);
	}

	/**
	 * Publishes the end-to-end encryption identity of the caller's device (docs/e2ee.md), bound to the
	 * token's login session: a sign-out of that session, or the account's deletion, deletes it again.
	 * Publishing again replaces it; a session publishing another device id loses its earlier one.
	 * @throws unauthorized for a token without a login session (a room or dev token)
	 * @throws validation_failed when `publicKey` is not a P-256 point (checkDevicePublicKey)
	 */
	async publishDevice(claims: Claims, deviceId: string, publicKey: string): Promise<void> {
		const user = await this.me(claims);
		await checkDevicePublicKey(publicKey);
		await this.#store.putDeviceKey({ userId: user.id, deviceId, sessionId: claims.sid!, publicKey });
		// NOTE: never the key itself; the device id alone tells one device from another.
		this.#logger.info('device key published', { userId: user.id, deviceId });
	}

	/** The account's published devices, oldest first, marking the caller's own. */
	async devices(claims: Claims): Promise<OwnDevice[]> {
		const user = await this.me(claims);
		return (await this.#store.deviceKeys(user.id)).map(({ sessionId, ...key }) => ({ ...key, current: sessionId === claims.sid }));
	}

	/** The admin API: sets flags that the account's next token carries. */
	async setFlags(handle: string, flags: { verified?: boolean; premium?: boolean }): Promise<User> {
		const user = await this.byHandle(handle);
		const updated = await this.#store.updateUser(user.id, flags);
		this.#logger.info('account flags set', { userId: user.id, ...flags });
		return updated;
	}

	/** Whether `token` is the configured admin token (constant time). */
	isAdminToken(token: string): boolean {
		const expected = this.#config.auth.adminToken;
		if (!expected) {
			return false;
		}
		return secretEquals(token, expected);
	}

	async #checkPassword(user: User, password: string): Promise<void> {
		const stored = await this.#store.passwordHash(user.id);
		if (!stored || !(await verifyPassword(password, stored))) {
			throw new AppError('forbidden', 'wrong password');
		}
	}

	async #startSession(user: User): Promise<LoginResult> {
		const sessionId = randomUUID();
		const refreshToken = randomBytes(32).toString('base64url');
		await this.#store.createSession({ id: sessionId, userId: user.id, refreshHash: digest(refreshToken), expiresAt: this.#refreshExpiry() });
		return { ...(await this.#accessToken(user, sessionId)), refreshToken };
	}

	async #accessToken(user: User, sessionId: string): Promise<Omit<LoginResult, 'refreshToken'>> {
		const token = await this.#tokens.issue({
			sub: user.id, handle: user.handle, name: user.displayName, verified: user.verified, premium: user.premium, sid: sessionId,
		});
		return { token, expiresIn: this.#config.auth.tokenTtlSeconds, user: { handle: user.handle, displayName: user.displayName, verified: user.verified } };
	}

	#refreshExpiry(): number {
		return Date.now() + this.#config.auth.refreshTtlSeconds * 1000;
	}
}

function digest(token: string): string {
	return createHash('sha256').update(token).digest('base64url');
}
