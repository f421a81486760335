/**
 * Polls `check` until it returns a value other than undefined/false, failing
 * after `timeoutMs`. Deadlines in tests are functional: poll, never sleep.
 */
export async function pollUntil<T>(
	what: string,
	check: () => T | undefined | false | Promise<T | undefined | false>,
	{ timeoutMs = 5000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let lastError: unknown;
	for (;;) {
		try {
			const value = await check();
			if (value !== undefined && value !== false) {
				return value;
			}
		} catch (error) {
			lastError = error;
		}
		if (Date.now() > deadline) {
			const detail = lastError ? ` (last error: ${(lastError as Error).message})` : '';
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
		}
		await new Promise((resolve) => setTimeout(resolve, intervalMs));
	}
}
