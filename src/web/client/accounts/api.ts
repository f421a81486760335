import type { ErrorCode } from '../../../errors';

/** An API refusal: the server's stable code and its message (for people), or `network` from this side. */
export class ApiError extends Error {
	constructor(readonly code: ErrorCode | 'network', message: string, readonly status = 0) {
		super(message);
		this.name = 'ApiError';
	}
}

/** What the pages say for a code; anything else shows the server's own message (validation names the field). */
const FRIENDLY: Partial<Record<ApiError['code'], string>> = {
	conflict: 'That handle is taken. Try another one.',
	rate_limited: 'Too many attempts. Wait a while and try again.',
	unavailable: 'This person cannot take your call right now.',
	premium_required: 'Placing calls needs a premium account on this node.',
	draining: 'This node is shutting down and starts no new calls. Try again in a moment.',
	service_unavailable: 'Accounts are unavailable on this node for a moment (calls in progress go on). Try again shortly.',
	network: 'The node cannot be reached. Check your connection and try again.',
	internal: 'Something went wrong on the node. Try again.',
};

/** A sentence for people from an error of the API or of signaling. */
export function describeError(error: unknown): string {
	const code = (error as { code?: ApiError['code'] } | undefined)?.code;
	const message = (error as Error | undefined)?.message ?? String(error);
	return (code && FRIENDLY[code]) ?? (message.charAt(0).toUpperCase() + message.slice(1));
}

/**
 * A JSON request to the node's API; resolves with the parsed body (undefined
 * for 204). NOTE: never logs: requests carry tokens.
 * @throws ApiError
 */
export async function requestJson<T>(method: string, path: string, { body, token }: { body?: unknown; token?: string } = {}): Promise<T> {
	let res: Response;
	try {
		res = await fetch(path, {
			method,
			headers: {
				...(token ? { Authorization: `Bearer ${token}` } : {}),
				...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
			},
			body: body === undefined ? undefined : JSON.stringify(body),
		});
	} catch {
		throw new ApiError('network', 'the node cannot be reached');
	}
	const text = await res.text();
	const parsed = text ? JSON.parse(text) as unknown : undefined;
	if (!res.ok) {
		const error = (parsed as { error?: { code: ErrorCode; message: string } } | undefined)?.error;
		throw new ApiError(error?.code ?? 'internal', error?.message ?? `HTTP ${res.status}`, res.status);
	}
	return parsed as T;
}
