// Types of processes.js (plain JS: jest's globalSetup loads it too).

/** A TCP port of 127.0.0.1 free now, drawn at random from `from`-`to` (inclusive). */
export declare function freePort(range: { from: number; to: number }): Promise<number>;

/**
 * Makes a server with `create(port)` and starts it, on `port` or else on a free
 * one of `range`, trying another port (three tries in all) when start() fails
 * with an error matching `taken`.
 */
export declare function startOnFreePort<S extends { start(): Promise<void> }>(
	where: { port?: number; range: { from: number; to: number }; taken: RegExp },
	create: (port: number) => S,
): Promise<S>;

/** Resolves when none of `pids` is alive, or after `timeoutMs` with those that still are (empty: all dead). */
export declare function untilDead(pids: number[], timeoutMs: number): Promise<number[]>;

/** SIGKILLs `pid` and its children; returns the pids it signalled. */
export declare function killWithChildren(pid: number): number[];

/** A server's destroy(): stop() it (kill() when it will not stop) and remove `dir`. */
export declare function stopAndRemove(server: { stop(): Promise<void>; kill(): Promise<void> }, dir: string): Promise<void>;

/** The pids whose parent is `pid`, from /proc. */
export declare function childrenOf(pid: number): number[];

/** Alive: exists and is not a zombie. */
export declare function alive(pid: number): boolean;

/** process.kill, where a process already gone is no error. */
export declare function signal(pid: number, name: NodeJS.Signals): void;

/** The last `lines` lines of a log file, or why there are none. */
export declare function tail(file: string, lines: number): string;
