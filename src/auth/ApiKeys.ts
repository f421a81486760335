import { randomBytes } from 'node:crypto';
import * as jose from 'jose';
import type { ApiScope, AuthConfig } from '../config';
import { AppError } from '../errors';

/** The longest a server API token may live (exp - iat): a backend mints one per call or per few minutes. */
export const API_TOKEN_MAX_SECONDS = 600;
/** Clocks of the backend and the node may differ this much. */
const CLOCK_TOLERANCE_SECONDS = 30;

/** Who called the server API: the key, and what it may do. */
export type ApiCaller = { key: string; scopes: ReadonlySet<ApiScope> };

/**
 * The server API's keys (`auth.apiKeys`, docs/server-api.md). A backend calls
 * the API with a short-lived JWT: HS256 under the key's secret, `iss` the key
 * id, `iat` and `exp` at most API_TOKEN_MAX_SECONDS apart, as LiveKit's
 * server SDKs do. Several keys at once let a secret be rotated without
 * downtime. NOTE: the secrets stay in the config (the node must read them to
 * verify); they never reach a log.
 */
export class ApiKeys {
	readonly #keys: Map<string, { secret: Uint8Array; scopes: ReadonlySet<ApiScope> }>;

	constructor(keys: AuthConfig['apiKeys']) {
		this.#keys = new Map(keys.map((k) => [k.key, { secret: new TextEncoder().encode(k.secret), scopes: new Set(k.scopes) }]));
	}

	get enabled(): boolean {
		return this.#keys.size > 0;
	}

	/**
	 * The caller of a server API token.
	 * @throws unauthorized ("invalid API token", "API token expired"), the same for an unknown key and a bad signature
	 */
	async verify(token: string): Promise<ApiCaller> {
		let iss: unknown;
		try {
			iss = jose.decodeJwt(token).iss;
		} catch {
			throw invalid();
		}
		const key = typeof iss === 'string' ? this.#keys.get(iss) : undefined;
		// NOTE: an unknown key is verified against a throwaway secret, so it takes as long as a bad signature.
		const secret = key?.secret ?? UNKNOWN_KEY_SECRET;
		let payload: jose.JWTPayload;
		try {
			({ payload } = await jose.jwtVerify(token, secret, {
				algorithms: ['HS256'], issuer: String(iss), requiredClaims: ['iat', 'exp'], clockTolerance: CLOCK_TOLERANCE_SECONDS,
			}));
		} catch (error) {
			throw error instanceof jose.errors.JWTExpired && key ? new AppError('unauthorized', 'API token expired') : invalid();
		}
		if (!key || (payload.exp! - payload.iat!) > API_TOKEN_MAX_SECONDS) {
			throw invalid();
		}
		return { key: String(iss), scopes: key.scopes };
	}
}

const UNKNOWN_KEY_SECRET = new Uint8Array(randomBytes(32));

function invalid(): AppError {
	return new AppError('unauthorized', 'invalid API token');
}
