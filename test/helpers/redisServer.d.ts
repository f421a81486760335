// Types of redisServer.js (plain JS: jest's globalSetup loads it too).

/** The URL of the run's one server, set by test/globalSetup.js. */
export declare const REDIS_URL_ENV: 'SWITCHYARD_TEST_REDIS_URL';
/** Why the run has no server, set by test/globalSetup.js instead of REDIS_URL_ENV. */
export declare const REDIS_MISSING_ENV: 'SWITCHYARD_TEST_REDIS_MISSING';
/** A directory holding redis-server, to use instead of Debian's /usr/bin. */
export declare const REDIS_BIN_ENV: 'SWITCHYARD_TEST_REDIS_BIN';

/**
 * The directory of redis-server: $SWITCHYARD_TEST_REDIS_BIN, else /usr/bin.
 * `missing` says what was looked for when there is none.
 */
export declare function findRedisBin(): { bin: string } | { missing: string };

/**
 * One Redis server: a directory (redis.conf, redis.log) and, while running, a
 * redis-server child process on 127.0.0.1:port. It owns its temporary
 * directory: destroy() removes it.
 */
export declare class RedisProcess {
	/** redis://:PASSWORD@127.0.0.1:PORT (the default user, database 0). */
	readonly url: string;
	readonly port: number;
	/** The temporary directory: redis.conf and redis.log. */
	readonly dir: string;
	/** Whether its redis-server process is alive (false too once it died of itself). */
	readonly running: boolean;
	/**
	 * Starts redis-server on the same port; resolves once it answers AUTH and
	 * PING. Nothing persists, so it starts empty every time. Throws with the
	 * log's new lines when it does not start. Does nothing while running.
	 */
	start(): Promise<void>;
	/** Stops redis-server (SIGTERM: it closes its connections and exits; nothing is saved). */
	stop(): Promise<void>;
	/** SIGKILLs redis-server (and any child it forked), as a crash would; resolves when they are dead. */
	kill(): Promise<void>;
	/** The signals of kill() without waiting, for a process about to exit; returns the pids signalled. */
	killSync(): number[];
	/** Stops the server if it runs (SIGKILL if it will not stop) and removes its directory. Idempotent. */
	destroy(): Promise<void>;
}

export interface StartRedisOptions {
	/** Where to make the temporary directory (default os.tmpdir()). */
	dir?: string;
	/** The TCP port of 127.0.0.1 (default: a free one of 16000-19999; never 6379). */
	port?: number;
	/** An IPv4 address of this host to listen on as well as 127.0.0.1 (a benchmark's bridge). */
	alsoOn?: string;
}

/**
 * Writes redis.conf (127.0.0.1 only, protected mode, a random requirepass, no
 * persistence) in a fresh temporary directory, and starts the server.
 */
export declare function startRedisProcess(options?: StartRedisOptions): Promise<RedisProcess>;
