// Types of postgresServer.js (plain JS: jest's globalSetup loads it too).

/** The admin URL of the run's one server, set by test/globalSetup.js. */
export declare const PG_URL_ENV: 'SWITCHYARD_TEST_PG_URL';
/** Why the run has no server, set by test/globalSetup.js instead of PG_URL_ENV. */
export declare const PG_MISSING_ENV: 'SWITCHYARD_TEST_PG_MISSING';
/** A directory holding initdb, pg_ctl and postgres, to use instead of Debian's. */
export declare const PG_BIN_ENV: 'SWITCHYARD_TEST_PG_BIN';

/**
 * The directory of initdb and pg_ctl: $SWITCHYARD_TEST_PG_BIN, else the newest
 * /usr/lib/postgresql/VERSION/bin. `missing` says what was looked for when there is none.
 */
export declare function findPostgresBin(): { bin: string } | { missing: string };

/**
 * One PostgreSQL server: a data directory and, while running, its postmaster
 * on 127.0.0.1:port. It owns its temporary directory: destroy() removes it.
 */
export declare class PostgresProcess {
	/** postgres://switchyard:PASSWORD@127.0.0.1:PORT/postgres: the superuser's URL. */
	readonly url: string;
	readonly port: number;
	/** The temporary directory: data/ (the cluster) and postgres.log. */
	readonly dir: string;
	readonly running: boolean;
	/**
	 * Starts the postmaster on the same port and data directory (crash recovery
	 * first after kill()); resolves once it accepts connections. Throws with the
	 * log's tail when it does not start. Does nothing while running.
	 */
	start(): Promise<void>;
	/** Stops the postmaster (fast shutdown: sessions are ended); keeps the data directory. */
	stop(): Promise<void>;
	/** SIGKILLs the postmaster and its children, as a crash would; resolves when they are dead. */
	kill(): Promise<void>;
	/** The signals of kill() without waiting, for a process about to exit; returns the pids signalled. */
	killSync(): number[];
	/** Stops the server if it runs (SIGKILL if it will not stop) and removes its directory. Idempotent. */
	destroy(): Promise<void>;
}

export interface StartPostgresOptions {
	/** Where to make the temporary directory (default os.tmpdir()). */
	dir?: string;
	/** The TCP port of 127.0.0.1 (default: a free one of 20000-31999; never 5432). */
	port?: number;
	/** An IPv4 address of this host to listen on as well as 127.0.0.1, taking clients of its /24 (a benchmark's bridge). */
	alsoOn?: string;
}

/**
 * initdb (UTF8, LC_CTYPE C.UTF-8, LC_COLLATE C, scram-sha-256 for superuser
 * `switchyard`) in a fresh temporary directory, and starts the server.
 */
export declare function startPostgresProcess(options?: StartPostgresOptions): Promise<PostgresProcess>;
