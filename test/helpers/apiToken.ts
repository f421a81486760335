import { SignJWT } from 'jose';

/** A server API token of `key`, signed with `secret`, living `seconds` from `iat` (now, or `iatOffset` s away). */
export function apiToken(key: string, secret: string, { seconds = 300, iatOffset = 0 } = {}): Promise<string> {
	const iat = Math.floor(Date.now() / 1000) + iatOffset;
	return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(key).setIssuedAt(iat).setExpirationTime(iat + seconds)
		.sign(new TextEncoder().encode(secret));
}
