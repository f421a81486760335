import type pg from 'pg';

/**
 * Runs `work` in one transaction on one connection of `pool`: committed when
 * it resolves, rolled back when it throws (the error is thrown as it is). A
 * connection that could not roll back is thrown away, not given back to the pool.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
	const client = await pool.connect();
	let broken: unknown;
	try {
		await client.query('BEGIN');
		const result = await work(client);
		await client.query('COMMIT');
		return result;
	} catch (error) {
		await client.query('ROLLBACK').catch((rollbackError: unknown) => {
			broken = rollbackError;
		});
		throw error;
	} finally {
		client.release(broken instanceof Error ? broken : undefined);
	}
}
