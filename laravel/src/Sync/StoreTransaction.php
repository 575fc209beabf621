<?php

namespace PosSync\Laravel\Sync;

use Illuminate\Database\ConnectionInterface;
use PosSync\Laravel\Protocol\Canonical;
use PosSync\Laravel\Protocol\Hlc;

/**
 * Everything a request writes into one store, inside the caller's database transaction.
 * The only class that speaks SQL to the sync tables.
 *
 * The sequence rule (§8): the store's counter row is locked first (`SELECT ... FOR UPDATE`,
 * inserted if missing), so a store's writers queue there until commit and `seq` order is
 * commit order — a download can never skip a change that commits late. Holding that lock,
 * the transaction is the store's only writer, so it can read a store's rows once, decide in
 * memory, and write everything back in a few bulk statements at `flush()`.
 */
final class StoreTransaction
{
    public const SEQUENCES = 'pos_sync_store_sequences';
    public const RECORDS = 'pos_sync_records';
    public const STATS = 'pos_sync_type_stats';
    public const APPLIED = 'pos_sync_applied_changes';
    public const STOCK = 'pos_sync_stock';
    public const CONFLICTS = 'pos_sync_conflicts';

    /** Rows per bulk statement (well under every driver's bound-parameter limit). */
    private const CHUNK = 200;

    private int $lastSeq;
    private int $startSeq;
    private int $clock;
    private int $startClock;
    /** @var array<string, StoredRecord|null> known state by "type\0id"; null = no record */
    private array $records = [];
    /** @var array<string, StoredRecord> records to write by "type\0id" (their final state) */
    private array $dirty = [];
    /** @var array<string, array{0: int, 1: int}> per type: live count and drift sum deltas */
    private array $statDeltas = [];
    /** @var array<string, int|float> stock deltas by product id */
    private array $stockDeltas = [];
    /** @var list<array<string, mixed>> */
    private array $appliedRows = [];
    /** @var list<array<string, mixed>> */
    private array $conflictRows = [];

    public function __construct(private readonly ConnectionInterface $db, public readonly string $storeId)
    {
        // Writing first makes SQLite take its write lock at once (lockForUpdate is a no-op
        // there), and creates the counter row for a new store.
        $db->table(self::SEQUENCES)->insertOrIgnore(['store_id' => $storeId, 'last_seq' => 0, 'last_hlc' => 0]);
        $row = $db->table(self::SEQUENCES)->where('store_id', $storeId)->lockForUpdate()->first();
        $this->lastSeq = $this->startSeq = (int) $row->last_seq;
        $this->clock = $this->startClock = (int) $row->last_hlc;
    }

    private static function key(string $type, string $id): string
    {
        return $type . "\0" . $id;
    }

    // ---- clock ----------------------------------------------------------------------------

    /** The server's next timestamp, for its own edits. */
    public function tick(): int
    {
        return $this->clock = Hlc::tick($this->clock, Hlc::nowMs());
    }

    /**
     * The timestamp stored for a device's edit: its own, which the server's clock then moves
     * past — unless it is more than five minutes in the server's future (a device clock
     * running ahead), in which case the server's own timestamp replaces it (§12).
     */
    public function stamp(int $deviceHlc): int
    {
        if (Hlc::millis($deviceHlc) > Hlc::nowMs() + Hlc::MAX_DRIFT_MS) {
            return $this->tick();
        }
        $this->clock = max($this->clock, $deviceHlc);

        return $deviceHlc;
    }

    // ---- records --------------------------------------------------------------------------

    /**
     * Reads the current state of many records of one type in a few queries, so that
     * `record()` answers them from memory.
     *
     * @param list<string> $ids
     */
    public function preload(string $type, array $ids): void
    {
        $missing = [];
        foreach ($ids as $id) {
            if (! array_key_exists(self::key($type, $id), $this->records)) {
                $missing[$id] = true;
                $this->records[self::key($type, $id)] = null;
            }
        }
        foreach (array_chunk(array_keys($missing), self::CHUNK) as $chunk) {
            $rows = $this->db->table(self::RECORDS)
                ->where('store_id', $this->storeId)->where('entity_type', $type)
                ->whereIn('entity_id', array_map('strval', $chunk))->get();
            foreach ($rows as $row) {
                $this->records[self::key($type, $row->entity_id)] = StoredRecord::fromRow($row);
            }
        }
    }

    public function record(string $type, string $id): ?StoredRecord
    {
        $key = self::key($type, $id);
        if (! array_key_exists($key, $this->records)) {
            $this->preload($type, [$id]);
        }

        return $this->records[$key];
    }

    /**
     * Writes the next version of a record (`$canonical` null = tombstone) with the store's
     * next sequence number, moving the type's drift aggregates from the old live version to
     * the new one. Written to the database at `flush()`.
     */
    public function write(string $type, string $id, ?string $canonical, string $checksum, int $hlc): StoredRecord
    {
        $old = $this->record($type, $id);
        $record = new StoredRecord($type, $id, ($old?->version ?? 0) + 1, $canonical === null, $hlc, $canonical, $checksum, ++$this->lastSeq);
        $key = self::key($type, $id);
        $this->records[$key] = $this->dirty[$key] = $record;
        $delta = $this->statDeltas[$type] ?? [0, 0];
        if ($old !== null && ! $old->deleted) {
            $delta = [$delta[0] - 1, $delta[1] - Canonical::drift($old->checksum)];
        }
        if ($canonical !== null) {
            $delta = [$delta[0] + 1, $delta[1] + Canonical::drift($checksum)];
        }
        $this->statDeltas[$type] = $delta;

        return $record;
    }

    /**
     * A server-side edit (back office, admin route, publisher): a new version stamped with
     * the server's clock, or nothing when the record already holds exactly this payload.
     * Returns the record and whether it was written.
     *
     * @return array{0: StoredRecord, 1: bool}
     */
    public function serverEdit(string $type, string $id, mixed $payload): array
    {
        $current = $this->record($type, $id);
        if ($payload === null) {
            if ($current === null || $current->deleted) {
                return [$current ?? StoredRecord::missing($type, $id), false];
            }

            return [$this->write($type, $id, null, Canonical::NULL_CHECKSUM, $this->tick()), true];
        }
        $canonical = Canonical::json($payload);
        $checksum = Canonical::checksumOfText($canonical);
        if ($current !== null && ! $current->deleted && $current->checksum === $checksum) {
            return [$current, false];
        }

        return [$this->write($type, $id, $canonical, $checksum, $this->tick()), true];
    }

    // ---- idempotency ----------------------------------------------------------------------

    /**
     * Stored results of change ids applied before, in any store.
     *
     * @param list<string> $changeIds
     * @return array<string, array{store_id: string, result: array<string, mixed>}>
     */
    public function appliedResults(array $changeIds): array
    {
        $found = [];
        foreach (array_chunk(array_values(array_unique($changeIds)), self::CHUNK) as $chunk) {
            $rows = $this->db->table(self::APPLIED)->whereIn('change_id', $chunk)->get(['change_id', 'store_id', 'result_json']);
            foreach ($rows as $row) {
                $found[$row->change_id] = [
                    'store_id' => $row->store_id,
                    'result' => json_decode($row->result_json, true, 512, JSON_THROW_ON_ERROR),
                ];
            }
        }

        return $found;
    }

    /** @param array<string, mixed> $result */
    public function rememberApplied(string $deviceId, array $result): void
    {
        $this->appliedRows[] = [
            'change_id' => $result['change_id'],
            'store_id' => $this->storeId,
            'device_id' => $deviceId,
            'result_json' => json_encode($result, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR),
            'applied_at' => Hlc::nowMs(),
        ];
    }

    // ---- stock ----------------------------------------------------------------------------

    public function addStock(string $productId, int|float $delta): void
    {
        $this->stockDeltas[$productId] = ($this->stockDeltas[$productId] ?? 0) + $delta;
    }

    /** A DECIMAL column's value as a JSON number: an integer when it is whole. */
    public static function number(mixed $value): int|float
    {
        $float = (float) $value;

        return floor($float) === $float && abs($float) < 2 ** 53 ? (int) $float : $float;
    }

    // ---- conflicts ------------------------------------------------------------------------

    /** Opens a conflict; returns its id. */
    public function openConflict(string $type, string $id, string $changeId, mixed $localPayload, int $localHlc, int $serverVersion): string
    {
        $conflictId = (string) \Illuminate\Support\Str::uuid();
        $this->conflictRows[] = [
            'conflict_id' => $conflictId,
            'store_id' => $this->storeId,
            'entity_type' => $type,
            'entity_id' => $id,
            'change_id' => $changeId,
            'local_payload' => $localPayload === null ? null : Canonical::json($localPayload),
            'local_hlc' => $localHlc,
            'server_version' => $serverVersion,
            'status' => 'open',
            'resolution' => null,
            'created_at' => Hlc::nowMs(),
            'resolved_at' => null,
        ];

        return $conflictId;
    }

    /**
     * Conflicts this store opened for some change ids (the oldest per change id).
     *
     * @param list<string> $changeIds
     * @return array<string, object>
     */
    public function conflictsForChanges(array $changeIds): array
    {
        $found = [];
        foreach (array_chunk(array_values(array_unique($changeIds)), self::CHUNK) as $chunk) {
            $rows = $this->db->table(self::CONFLICTS)->where('store_id', $this->storeId)
                ->whereIn('change_id', $chunk)->orderBy('created_at')->get();
            foreach ($rows as $row) {
                $found[$row->change_id] ??= $row;
            }
        }

        return $found;
    }

    /** A conflict of this store by id, locked; another store's conflict is null. */
    public function conflict(string $conflictId): ?object
    {
        return $this->db->table(self::CONFLICTS)->where('store_id', $this->storeId)
            ->where('conflict_id', $conflictId)->lockForUpdate()->first();
    }

    public function closeConflict(string $conflictId, string $resolution): void
    {
        $this->db->table(self::CONFLICTS)->where('store_id', $this->storeId)->where('conflict_id', $conflictId)
            ->update(['status' => 'resolved', 'resolution' => $resolution, 'resolved_at' => Hlc::nowMs()]);
    }

    // ---- writing back ---------------------------------------------------------------------

    /** Writes everything decided in memory, in bulk statements. Call once, before commit. */
    public function flush(): void
    {
        foreach (array_chunk(array_values($this->dirty), self::CHUNK) as $chunk) {
            $rows = array_map(fn (StoredRecord $r) => [
                'store_id' => $this->storeId,
                'entity_type' => $r->entityType,
                'entity_id' => $r->entityId,
                'version' => $r->version,
                'deleted' => $r->deleted,
                'updated_hlc' => $r->updatedHlc,
                'payload' => $r->payload,
                'checksum' => $r->checksum,
                'seq' => $r->seq,
            ], $chunk);
            $this->db->table(self::RECORDS)->upsert(
                $rows,
                ['store_id', 'entity_type', 'entity_id'],
                ['version', 'deleted', 'updated_hlc', 'payload', 'checksum', 'seq']
            );
        }
        $this->dirty = [];
        foreach (array_chunk($this->appliedRows, self::CHUNK) as $chunk) {
            $this->db->table(self::APPLIED)->insert($chunk);
        }
        $this->appliedRows = [];
        foreach (array_chunk($this->conflictRows, self::CHUNK) as $chunk) {
            $this->db->table(self::CONFLICTS)->insert($chunk);
        }
        $this->conflictRows = [];
        $this->flushStock();
        $this->flushStats();
        if ($this->lastSeq !== $this->startSeq || $this->clock !== $this->startClock) {
            $this->db->table(self::SEQUENCES)->where('store_id', $this->storeId)
                ->update(['last_seq' => $this->lastSeq, 'last_hlc' => $this->clock]);
            $this->startSeq = $this->lastSeq;
            $this->startClock = $this->clock;
        }
    }

    private function flushStock(): void
    {
        if ($this->stockDeltas === []) {
            return;
        }
        // One upsert that adds each delta in SQL: no read of the current quantities first.
        $rows = [];
        foreach ($this->stockDeltas as $product => $delta) {
            $rows[] = ['store_id' => $this->storeId, 'product_id' => (string) $product, 'quantity' => is_float($delta) ? round($delta, 3) : $delta];
        }
        $grammar = $this->db->getQueryGrammar();
        $current = $grammar->wrapTable(self::STOCK) . '.' . $grammar->wrap('quantity');
        $added = $this->db->getDriverName() === 'mysql' ? 'values(' . $grammar->wrap('quantity') . ')' : 'excluded.' . $grammar->wrap('quantity');
        foreach (array_chunk($rows, self::CHUNK) as $chunk) {
            $this->db->table(self::STOCK)->upsert($chunk, ['store_id', 'product_id'], ['quantity' => $this->db->raw("{$current} + {$added}")]);
        }
        $this->stockDeltas = [];
    }

    private function flushStats(): void
    {
        $deltas = array_filter($this->statDeltas, fn ($d) => $d !== [0, 0]);
        $this->statDeltas = [];
        if ($deltas === []) {
            return;
        }
        $current = $this->db->table(self::STATS)->where('store_id', $this->storeId)
            ->whereIn('entity_type', array_keys($deltas))->get()->keyBy('entity_type');
        $rows = [];
        foreach ($deltas as $type => [$count, $sum]) {
            $row = $current[$type] ?? null;
            $rows[] = [
                'store_id' => $this->storeId,
                'entity_type' => $type,
                'live_count' => (int) ($row->live_count ?? 0) + $count,
                'checksum_sum' => ((((int) ($row->checksum_sum ?? 0) + $sum) % 4294967296) + 4294967296) % 4294967296,
            ];
        }
        $this->db->table(self::STATS)->upsert($rows, ['store_id', 'entity_type'], ['live_count', 'checksum_sum']);
    }

    // ---- reads ----------------------------------------------------------------------------

    /** Live count and drift checksum per type, in priority order. */
    public static function entityStats(ConnectionInterface $db, string $storeId): array
    {
        $rows = $db->table(self::STATS)->where('store_id', $storeId)->get()->keyBy('entity_type');

        return array_map(fn (string $type) => [
            'entity_type' => $type,
            'count' => (int) ($rows[$type]->live_count ?? 0),
            'checksum' => (int) ($rows[$type]->checksum_sum ?? 0),
        ], \PosSync\Laravel\Protocol\EntityType::ALL);
    }

    /** The store's last allocated sequence number (0 for a store that never wrote). */
    public static function lastSequence(ConnectionInterface $db, string $storeId): int
    {
        return (int) ($db->table(self::SEQUENCES)->where('store_id', $storeId)->value('last_seq') ?? 0);
    }

    /**
     * Records of a type changed after sequence `$since`, oldest first.
     *
     * @return list<StoredRecord>
     */
    public static function page(ConnectionInterface $db, string $storeId, string $type, int $since, int $limit): array
    {
        return $db->table(self::RECORDS)
            ->where('store_id', $storeId)->where('entity_type', $type)->where('seq', '>', $since)
            ->orderBy('seq')->limit($limit)->get()
            ->map(fn ($row) => StoredRecord::fromRow($row))->all();
    }

    /** @return list<StoredRecord> every live record of a type, by entity id */
    public static function liveRecords(ConnectionInterface $db, string $storeId, string $type): array
    {
        return $db->table(self::RECORDS)
            ->where('store_id', $storeId)->where('entity_type', $type)->where('deleted', false)
            ->orderBy('entity_id')->get()
            ->map(fn ($row) => StoredRecord::fromRow($row))->all();
    }

    public static function openConflicts(ConnectionInterface $db, string $storeId): int
    {
        return $db->table(self::CONFLICTS)->where('store_id', $storeId)->where('status', 'open')->count();
    }
}
