import { ApiError, requestJson } from './api';

/** The account as the API describes it (signup, login, refresh). */
export type Me = { handle: string; displayName: string; verified: boolean };

/** What signup, login and refresh answer. */
type LoginResult = { token: string; refreshToken: string; expiresIn: number; user: Me };

/** What is kept in localStorage: both tokens, when the access token expires (this clock), and the account. */
type Stored = { token: string; refreshToken: string; expiresAt: number; user: Me };

/** The localStorage key of the session. */
export const SESSION_KEY = 'switchyard.session';
/** Refresh this long before the access token expires, so that a request or a reconnection never carries an expired one. */
const REFRESH_MARGIN_MS = 60_000;
/** How long after a refresh the node could not answer (its store down, the network) to try again. */
const REFRESH_RETRY_MS = 5000;

function read(): Stored | undefined {
	try {
		const stored = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as Stored | null;
		return stored?.token && stored.refreshToken ? stored : undefined;
	} catch {
		return undefined;
	}
}

function write(result: LoginResult): Stored {
	const stored: Stored = { token: result.token, refreshToken: result.refreshToken, expiresAt: Date.now() + result.expiresIn * 1000, user: result.user };
	localStorage.setItem(SESSION_KEY, JSON.stringify(stored));
	return stored;
}

/**
 * Runs `fn` holding a lock shared by every tab of this origin, where the
 * browser has the Web Locks API. NOTE: refresh tokens rotate, so two tabs
 * refreshing at once would leave one of them with a used token.
 */
async function exclusively<T>(fn: () => Promise<T>): Promise<T> {
	return navigator.locks ? navigator.locks.request('switchyard.refresh', fn) as Promise<T> : fn();
}

/** Signs up or in; the session is stored for every tab (see docs/web-client.md, "Tokens"). @throws ApiError */
export async function signIn(kind: 'signup' | 'login', body: { handle: string; password: string; displayName?: string }): Promise<void> {
	write(await requestJson<LoginResult>('POST', `/api/auth/${kind}`, { body }));
}

/**
 * The signed-in account of this browser: access token refreshed before it
 * expires (and on demand), authenticated API calls, sign-out. One per page.
 */
export class Account {
	#stored: Stored;
	#timer?: ReturnType<typeof setTimeout>;
	#onSignedOut: () => void;

	private constructor(stored: Stored, onSignedOut: () => void) {
		this.#stored = stored;
		this.#onSignedOut = onSignedOut;
		// Another tab refreshed or signed out.
		addEventListener('storage', (event) => {
			if (event.key !== SESSION_KEY) {
				return;
			}
			const next = read();
			if (next) {
				this.#stored = next;
				this.#schedule();
			} else {
				this.#ended();
			}
		});
		this.#schedule();
	}

	/** The stored session, or undefined when signed out. */
	static load(onSignedOut: () => void): Account | undefined {
		const stored = read();
		return stored ? new Account(stored, onSignedOut) : undefined;
	}

	get me(): Me {
		return this.#stored.user;
	}

	/** A valid access token: the current one, or a refreshed one. @throws ApiError unauthorized once the session is over */
	async token(): Promise<string> {
		if (this.#stored.expiresAt - Date.now() > REFRESH_MARGIN_MS) {
			return this.#stored.token;
		}
		return this.#refresh();
	}

	/**
	 * An authenticated API request. A 401 is retried once with a refreshed
	 * token; a second one means the session has ended (logout elsewhere, a
	 * password change) and the page goes to sign-in.
	 * @throws ApiError
	 */
	async api<T>(method: string, path: string, body?: unknown): Promise<T> {
		try {
			return await requestJson<T>(method, path, { body, token: await this.token() });
		} catch (error) {
			if ((error as ApiError).code !== 'unauthorized') {
				throw error;
			}
			return requestJson<T>(method, path, { body, token: await this.#refresh() });
		}
	}

	/** Ends the login session on the node and forgets it here. */
	async signOut(): Promise<void> {
		await requestJson('POST', '/api/auth/logout', { token: await this.token() }).catch(() => undefined);
		localStorage.removeItem(SESSION_KEY);
		this.#ended();
	}

	/** The node ended this login session (session.ended: a logout elsewhere, a password change): forget it here too. */
	ended(): void {
		localStorage.removeItem(SESSION_KEY);
		this.#ended();
	}

	#schedule(): void {
		clearTimeout(this.#timer);
		const due = Math.max(0, this.#stored.expiresAt - REFRESH_MARGIN_MS - Date.now());
		this.#timer = setTimeout(() => void this.#refresh().catch((error: unknown) => {
			// The session is over (401: #refresh has signed out), or the node could not answer now
			// (its store down, the network): try again shortly rather than let the token lapse.
			if ((error as ApiError).code !== 'unauthorized') {
				this.#timer = setTimeout(() => this.#schedule(), REFRESH_RETRY_MS);
			}
		}), due);
	}

	async #refresh(): Promise<string> {
		const used = this.#stored.refreshToken;
		return exclusively(async () => {
			// Another tab may have refreshed meanwhile: its tokens are in storage.
			const latest = read();
			if (latest && latest.refreshToken !== used) {
				this.#stored = latest;
				this.#schedule();
				return latest.token;
			}
			try {
				this.#stored = write(await requestJson<LoginResult>('POST', '/api/auth/refresh', { body: { refreshToken: used } }));
			} catch (error) {
				if ((error as ApiError).code === 'unauthorized') {
					localStorage.removeItem(SESSION_KEY);
					this.#ended();
				}
				throw error;
			}
			this.#schedule();
			return this.#stored.token;
		});
	}

	#ended(): void {
		clearTimeout(this.#timer);
		this.#onSignedOut();
	}
}

export { ApiError };
