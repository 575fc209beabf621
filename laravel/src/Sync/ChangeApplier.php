<?php

namespace PosSync\Laravel\Sync;

use PosSync\Laravel\Protocol\Canonical;
use PosSync\Laravel\Protocol\EntityType;
use PosSync\Laravel\Protocol\Limits;

/**
 * Applies the changes of one upload in request order inside one store transaction, one
 * result per change (§6 "Applying the changes"). Results are arrays in the protocol's shape;
 * a conflict's `server_record` is a StoredRecord, turned into JSON by the controller.
 */
final class ChangeApplier
{
    /** @var list<array{entity_type: string, entity_id: string, change_id: ?string, version: int}> */
    public array $written = [];
    /** @var array<string, array{store_id: string, result: array<string, mixed>}> */
    private array $applied = [];
    /** @var array<string, object> conflicts by change id */
    private array $conflicts = [];

    public function __construct(private readonly StoreTransaction $tx, private readonly string $deviceId)
    {
    }

    /**
     * @param list<Change> $changes
     * @return list<array<string, mixed>>
     */
    public function applyAll(array $changes): array
    {
        $this->applied = $this->tx->appliedResults(array_map(fn (Change $c) => $c->changeId, $changes));
        $ids = [];
        $customerChanges = [];
        foreach ($changes as $c) {
            $ids[$c->entityType][] = $c->entityId;
            if ($c->entityType === EntityType::CUSTOMER) {
                $customerChanges[] = $c->changeId;
            }
        }
        foreach ($ids as $type => $list) {
            if (in_array($type, [EntityType::SALE, EntityType::STOCK_ADJUSTMENT, EntityType::CUSTOMER], true)) {
                $this->tx->preload($type, $list);
            }
        }
        $this->conflicts = $customerChanges === [] ? [] : $this->tx->conflictsForChanges($customerChanges);

        $results = [];
        foreach ($changes as $change) {
            $results[] = $this->apply($change);
        }
        $this->tx->flush();

        return $results;
    }

    /** @return array<string, mixed> */
    private function apply(Change $c): array
    {
        // Idempotency: a change id is applied at most once, ever, in whichever store.
        if (isset($this->applied[$c->changeId])) {
            $stored = $this->applied[$c->changeId];
            if ($stored['store_id'] !== $this->tx->storeId) {
                return self::rejected($c, 'invalid_request', 'change id already used');
            }

            return ['status' => 'duplicate'] + $stored['result'];
        }
        $checksum = Canonical::checksumOfText($c->canonicalPayload);
        if (! Canonical::matches($checksum, $c->checksum)) {
            return self::rejected($c, 'checksum_mismatch', 'the payload checksum does not match its content; send it again');
        }
        $size = strlen($c->canonicalPayload);
        if ($size > Limits::MAX_PAYLOAD_BYTES) {
            return self::rejected($c, 'payload_too_large', sprintf('the payload is %d bytes of canonical JSON; at most %d are accepted', $size, Limits::MAX_PAYLOAD_BYTES));
        }

        return match ($c->entityType) {
            EntityType::SALE, EntityType::STOCK_ADJUSTMENT => $this->applyAppendOnly($c, $checksum),
            EntityType::CUSTOMER => $this->applyCustomer($c, $checksum),
            default => self::rejected($c, 'invalid_action', "{$c->entityType} records come from the server; devices cannot upload them"),
        };
    }

    /** Sales and stock adjustments: created once, never edited; the device is the truth. */
    private function applyAppendOnly(Change $c, string $checksum): array
    {
        if ($c->action !== 'create') {
            return self::rejected($c, 'invalid_action', "a {$c->entityType} can only be created, never updated or deleted");
        }
        $effects = StockEffects::of($c->entityType, $c->entityId, $c->payload);
        if (is_string($effects)) {
            return self::rejected($c, 'invalid_payload', $effects);
        }
        $existing = $this->tx->record($c->entityType, $c->entityId);
        if ($existing !== null) {
            // Recorded before under another change id: never record it twice.
            $result = self::withVersion($c, 'duplicate', $existing->version);
            $this->remember($c, $result);

            return $result;
        }
        $record = $this->tx->write($c->entityType, $c->entityId, $c->canonicalPayload, $checksum, $this->tx->stamp($c->hlc));
        foreach ($effects as [$product, $delta]) {
            $this->tx->addStock($product, $delta);
        }

        return $this->appliedNow($c, $record->version);
    }

    /** Customers: edited on both sides, versioned, optimistic concurrency on base_version. */
    private function applyCustomer(Change $c, string $checksum): array
    {
        $isObject = StockEffects::objectWithId($c->entityId, $c->payload);
        if ($c->action !== 'delete' && is_string($isObject)) {
            return self::rejected($c, 'invalid_payload', $isObject);
        }
        if ($c->action === 'delete' && $c->payload !== null) {
            return self::rejected($c, 'invalid_payload', 'a delete carries a null payload');
        }
        if ($c->action !== 'create' && $c->baseVersion === null) {
            return self::rejected($c, 'invalid_payload', "a customer {$c->action} needs base_version, the server version it was based on");
        }
        $current = $this->tx->record($c->entityType, $c->entityId);
        if (isset($this->conflicts[$c->changeId])) {
            // The same change sent again after a conflict: report it, open no other.
            $existing = $this->conflicts[$c->changeId];

            return $this->conflictResult($c, $current, sprintf(
                'this change already raised conflict %s (%s)',
                $existing->conflict_id,
                $existing->status === 'open' ? 'open' : 'resolved'
            ), $existing->conflict_id);
        }
        $same = $current !== null && ! $current->deleted && $current->checksum === $checksum;

        if ($c->action === 'create' && $current === null) {
            return $this->appliedNow($c, $this->writeCustomer($c, $checksum)->version);
        }
        if ($c->action !== 'delete' && $same) {
            return $this->appliedNoop($c, $current->version);
        }
        if ($c->action === 'create') {
            return $this->conflict($c, $current, $current->deleted
                ? "this customer was deleted on the server (version {$current->version})"
                : "a different customer with this id exists on the server (version {$current->version})");
        }
        if ($c->action === 'update' && $current === null) {
            return $this->conflict($c, null, 'this customer does not exist on the server');
        }
        if ($c->action === 'update' && $current->deleted) {
            return $this->conflict($c, $current, "this customer was deleted on the server (version {$current->version})");
        }
        if ($current !== null && ! $current->deleted && $c->baseVersion === $current->version) {
            return $this->appliedNow($c, $this->writeCustomer($c, $checksum)->version);
        }
        if ($c->action === 'delete' && $current === null) {
            return $this->appliedNoop($c, 0);
        }
        if ($c->action === 'delete' && $current->deleted) {
            return $this->appliedNoop($c, $current->version);
        }

        return $this->conflict($c, $current, sprintf(
            'this customer changed on the server since base_version %d: the server has version %d',
            $c->baseVersion,
            $current->version
        ));
    }

    private function writeCustomer(Change $c, string $checksum): StoredRecord
    {
        $hlc = $this->tx->stamp($c->hlc);

        return $c->action === 'delete'
            ? $this->tx->write($c->entityType, $c->entityId, null, Canonical::NULL_CHECKSUM, $hlc)
            : $this->tx->write($c->entityType, $c->entityId, $c->canonicalPayload, $checksum, $hlc);
    }

    private function conflict(Change $c, ?StoredRecord $current, string $reason): array
    {
        $record = $current ?? StoredRecord::missing($c->entityType, $c->entityId);
        $conflictId = $this->tx->openConflict($c->entityType, $c->entityId, $c->changeId, $c->payload, $c->hlc, $record->version);
        $this->conflicts[$c->changeId] = (object) ['conflict_id' => $conflictId, 'status' => 'open'];

        return $this->conflictResult($c, $current, $reason, $conflictId);
    }

    private function conflictResult(Change $c, ?StoredRecord $current, string $reason, string $conflictId): array
    {
        return [
            'change_id' => $c->changeId,
            'status' => 'conflict',
            'reason' => $reason,
            'conflict_id' => $conflictId,
            'server_record' => $current ?? StoredRecord::missing($c->entityType, $c->entityId),
        ];
    }

    private function appliedNow(Change $c, int $version): array
    {
        $result = self::withVersion($c, 'applied', $version);
        $this->remember($c, $result);
        $this->written[] = ['entity_type' => $c->entityType, 'entity_id' => $c->entityId, 'change_id' => $c->changeId, 'version' => $version];

        return $result;
    }

    /** Applied without writing anything: the server already holds what the change asks for. */
    private function appliedNoop(Change $c, int $version): array
    {
        $result = self::withVersion($c, 'applied', $version);
        $this->remember($c, $result);

        return $result;
    }

    private function remember(Change $c, array $result): void
    {
        $this->tx->rememberApplied($this->deviceId, $result);
        $this->applied[$c->changeId] = ['store_id' => $this->tx->storeId, 'result' => $result];
    }

    private static function withVersion(Change $c, string $status, int $version): array
    {
        return ['change_id' => $c->changeId, 'status' => $status, 'version' => $version];
    }

    private static function rejected(Change $c, string $code, string $reason): array
    {
        return ['change_id' => $c->changeId, 'status' => 'rejected', 'code' => $code, 'reason' => $reason];
    }
}
