<?php

namespace PosSync\Laravel\Publishing;

use PosSync\Laravel\Protocol\ApiError;
use PosSync\Laravel\Protocol\Canonical;
use PosSync\Laravel\Protocol\EntityType;
use PosSync\Laravel\Protocol\Limits;
use PosSync\Laravel\Sync\StoredRecord;
use PosSync\Laravel\Sync\StoreTransaction;
use PosSync\Laravel\Sync\SyncDatabase;
use PosSync\Laravel\Webhooks\WebhookEvents;

/**
 * Server-side edits of master data (products, prices, customers, reports) written into the
 * sync records: each payload becomes the record's next version with the server's clock and the
 * store's next sequence number, in one transaction per chunk (a savepoint of the caller's
 * transaction, if any). A payload identical to the current one writes nothing. Mass updates
 * go through here directly, without Eloquent model events.
 */
final class BulkPublisher
{
    public const CHUNK = 500;

    /**
     * Publishes payloads (arrays or objects, each with a string `id`) of one type into a store.
     * Returns the resulting records, in order.
     *
     * @param iterable<array<string, mixed>|\stdClass> $payloads
     * @return list<StoredRecord>
     */
    public function publish(string $storeId, string $type, iterable $payloads): array
    {
        self::checkWritable($type);
        $records = [];
        $chunk = [];
        foreach ($payloads as $payload) {
            $chunk[] = self::checked(count($records) + count($chunk), $payload);
            if (count($chunk) === self::CHUNK) {
                array_push($records, ...$this->write($storeId, $type, $chunk));
                $chunk = [];
            }
        }
        if ($chunk !== []) {
            array_push($records, ...$this->write($storeId, $type, $chunk));
        }

        return $records;
    }

    /** Writes a tombstone. Returns null when the store never had the record. */
    public function delete(string $storeId, string $type, string $entityId): ?StoredRecord
    {
        self::checkWritable($type);
        [$record, $written] = SyncDatabase::inStore($storeId, function (StoreTransaction $tx) use ($type, $entityId) {
            if ($tx->record($type, $entityId) === null) {
                return [null, []];
            }
            [$record, $wrote] = $tx->serverEdit($type, $entityId, null);

            return [$record, $wrote ? [self::written($record)] : []];
        });
        WebhookEvents::changesApplied($storeId, null, $written);

        return $record;
    }

    /**
     * @param list<array{0: string, 1: \stdClass}> $items id and payload
     * @return list<StoredRecord>
     */
    private function write(string $storeId, string $type, array $items): array
    {
        [$records, $written] = SyncDatabase::inStore($storeId, function (StoreTransaction $tx) use ($type, $items) {
            $tx->preload($type, array_map(fn ($item) => $item[0], $items));
            $records = [];
            $written = [];
            foreach ($items as [$id, $payload]) {
                [$record, $wrote] = $tx->serverEdit($type, $id, $payload);
                $records[] = $record;
                if ($wrote) {
                    $written[] = self::written($record);
                }
            }

            return [$records, $written];
        });
        WebhookEvents::changesApplied($storeId, null, $written);

        return $records;
    }

    private static function written(StoredRecord $r): array
    {
        return ['entity_type' => $r->entityType, 'entity_id' => $r->entityId, 'change_id' => null, 'version' => $r->version];
    }

    public static function checkWritable(string $type): void
    {
        EntityType::check($type);
        if (! in_array($type, EntityType::SERVER_WRITTEN, true)) {
            throw new ApiError(400, 'invalid_action', "{$type} records come from devices; the server does not edit them");
        }
    }

    /** @return array{0: string, 1: \stdClass} */
    private static function checked(int $i, mixed $payload): array
    {
        if (is_array($payload)) {
            $payload = json_decode(json_encode($payload, JSON_THROW_ON_ERROR | JSON_PRESERVE_ZERO_FRACTION), false, 512, JSON_THROW_ON_ERROR);
        }
        $id = $payload instanceof \stdClass ? ($payload->id ?? null) : null;
        if (! is_string($id) || Limits::idProblem($id) !== null) {
            throw ApiError::invalidRequest(sprintf("[%d] must be an object with a string 'id' of 1 to %d characters", $i, Limits::MAX_ID_CHARS));
        }
        $size = strlen(Canonical::json($payload));
        if ($size > Limits::MAX_PAYLOAD_BYTES) {
            throw ApiError::tooLarge(sprintf('[%d] is %d bytes of canonical JSON; at most %d are accepted', $i, $size, Limits::MAX_PAYLOAD_BYTES));
        }

        return [$id, $payload];
    }
}
