import { createHmac, randomBytes } from 'node:crypto';
import * as jose from 'jose';
import { z } from 'zod';
import type { AuthConfig } from '../config';
import { AppError } from '../errors';
import { displayText } from '../util';

/**
 * What a token says about its bearer. One format for every token: dev tokens,
 * account tokens and an operator's identity provider's tokens.
 */
export const claimsSchema = z.object({
	/** Stable id of the bearer (account id, or the identity provider's subject). */
	sub: z.string().min(1).max(128),
	/** Account handle, for accounts. Other peers see it (peer.joined). */
	handle: displayText(64).optional(),
	/** Display name; wins over the one a client sends in room.join. Other peers see it. */
	name: displayText(64).optional(),
	verified: z.boolean().default(false),
	premium: z.boolean().default(false),
	/** Room ids the bearer may join; "*" for any but a call's room. Absent: none. */
	rooms: z.array(z.string().min(1).max(64)).max(100).optional(),
	/**
	 * Load-generator grant: plain RTP transports (transport.createPlain). Only
	 * honoured in tokens signed with the node's own auth.secret, which the node
	 * never puts in a token it issues (dev, account and call tokens alike).
	 */
	loadtest: z.boolean().default(false),
	/** The login session of an account token; revoked sessions' tokens are refused. */
	sid: z.string().min(1).max(64).optional(),
	/**
	 * A call's room token: the login session it was issued to. It is refused,
	 * and its connections end, when that session ends (logout, password change).
	 */
	psid: z.string().min(1).max(64).optional(),
	exp: z.number().int(),
	/** When the token was issued (seconds): a participant the server API removed comes back only with a newer one. */
	iat: z.number().int().optional(),
});

export type Claims = z.infer<typeof claimsSchema>;
export type IssueClaims = Omit<z.input<typeof claimsSchema>, 'exp' | 'iat'>;

const PUBLIC_KEY_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];

/** Issues and verifies the node's JWTs (jose). */
export class TokenService {
	readonly #secret: Uint8Array;
	readonly #publicKey?: { key: jose.KeyLike | Uint8Array; alg: string }[];
	readonly #issuer: string | null;
	readonly #audience: string | null;
	readonly #ttlSeconds: number;

	private constructor(
		secret: Uint8Array, publicKey: { key: jose.KeyLike | Uint8Array; alg: string }[] | undefined,
		{ issuer, audience }: { issuer: string | null; audience: string | null }, ttlSeconds: number,
	) {
		this.#secret = secret;
		this.#publicKey = publicKey;
		this.#issuer = issuer;
		this.#audience = audience;
		this.#ttlSeconds = ttlSeconds;
	}

	/**
	 * @param dev In dev mode a missing auth.secret is replaced by a random one
	 *   (tokens then last until the process restarts); outside it, it is required
	 *   unless an identity provider's key is configured.
	 */
	static async create(config: AuthConfig, { dev }: { dev: boolean }): Promise<TokenService> {
		let secret: Uint8Array;
		if (config.secret) {
			secret = new TextEncoder().encode(config.secret);
		} else if (dev || config.publicKey) {
			// NOTE: without a secret outside dev mode the node issues no verifiable
			// tokens of its own; a random one keeps issue() working but useless to others.
			secret = randomBytes(32);
		} else {
			throw new Error('auth.secret (or auth.publicKey with auth.issuer) is required outside dev mode');
		}
		let publicKey: { key: jose.KeyLike | Uint8Array; alg: string }[] | undefined;
		if (config.publicKey) {
			publicKey = [];
			for (const alg of PUBLIC_KEY_ALGORITHMS) {
				try {
					publicKey.push({ key: await jose.importSPKI(config.publicKey, alg), alg });
				} catch {
					// The key is not of this algorithm's type.
				}
			}
			if (publicKey.length === 0) {
				throw new Error(`auth.publicKey: expected an ${PUBLIC_KEY_ALGORITHMS.join(', ')} public key in PEM`);
			}
		}
		return new TokenService(secret, publicKey, { issuer: config.issuer, audience: config.audience }, config.tokenTtlSeconds);
	}

	/** Signs a token (HS256) for the given claims, valid for `ttlSeconds`. */
	async issue(claims: IssueClaims, ttlSeconds = this.#ttlSeconds): Promise<string> {
		const { sub, ...rest } = claims;
		return new jose.SignJWT(rest)
			.setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
			.setSubject(sub)
			.setIssuedAt()
			.setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
			.sign(this.#secret);
	}

	/**
	 * The refresh token that a rotation of `refreshToken` hands out: an
	 * HMAC-SHA256 of it under the node's secret (43 base64url characters), so
	 * the same rotation can be answered again without storing its answer, and
	 * nobody without the secret can tell it from random. A new secret gives
	 * new successors.
	 */
	nextRefreshToken(refreshToken: string): string {
		// NOTE: the label keeps these apart from any other use of the key: a JWT's signing input
		// never contains a NUL.
		return createHmac('sha256', this.#secret).update(`switchyard refresh token\0${refreshToken}`).digest('base64url');
	}

	/**
	 * Verifies a token's signature, expiry and claims; an identity provider's
	 * also its issuer, and its audience when auth.audience is set.
	 * @throws AppError unauthorized, saying only "token expired" or "invalid token".
	 */
	async verify(token: string): Promise<Claims> {
		let payload: jose.JWTPayload;
		let header: jose.ProtectedHeaderParameters;
		try {
			header = jose.decodeProtectedHeader(token);
			if (header.alg === 'HS256') {
				({ payload } = await jose.jwtVerify(token, this.#secret, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }));
			} else {
				const candidate = this.#publicKey?.find((k) => k.alg === header.alg);
				if (!candidate) {
					throw new Error('unsupported algorithm');
				}
				({ payload } = await jose.jwtVerify(token, candidate.key, {
					algorithms: [candidate.alg], issuer: this.#issuer ?? undefined, audience: this.#audience ?? undefined, requiredClaims: ['exp', 'sub'],
				}));
			}
		} catch (error) {
			if (error instanceof jose.errors.JWTExpired) {
				throw new AppError('unauthorized', 'token expired');
			}
			throw new AppError('unauthorized', 'invalid token');
		}
		const claims = claimsSchema.safeParse(payload);
		if (!claims.success) {
			throw new AppError('unauthorized', 'invalid token claims');
		}
		// NOTE: an identity provider speaks for users, not for the operator's
		// load generator: its tokens never carry the grant.
		if (header.alg !== 'HS256') {
			claims.data.loadtest = false;
		}
		return claims.data;
	}
}

/**
 * Whether the token's `rooms` grant covers `roomId`. NOTE: not for a call's
 * room (`call-...`): the call service decides those, and `*` never covers them.
 */
export function mayJoinRoom(claims: Claims, roomId: string): boolean {
	return claims.rooms?.some((room) => room === '*' || room === roomId) ?? false;
}
