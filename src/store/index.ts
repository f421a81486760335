export { openStore, postgresOptions } from './openStore';
export { copySqliteToPostgres, type CopiedTable, type CopyCounts } from './postgres/copyFromSqlite';
export { type PostgresOptions } from './postgres/pool';
export { MIGRATIONS as POSTGRES_MIGRATIONS } from './postgres/migrations';
export { PostgresStore } from './postgres/PostgresStore';
export { MIGRATIONS, migrate } from './sqlite/migrations';
export { SqliteStore } from './sqlite/SqliteStore';
export { CALLER_OUTCOMES, DEFAULT_SETTINGS, withDefaultSettings } from './types';
export type {
	CallLink, CallMedia, CalleeOutcome, CallerOutcome, CallOutcome, CallRecord, DeviceKey, HistoryCursor, PublicUser, QueuedWebhook, RelationKind, RelationsBetween, ReportedAccount, Session, Store, StoreHealth, User, UserSettings,
} from './types';
