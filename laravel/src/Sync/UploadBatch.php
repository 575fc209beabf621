<?php

namespace PosSync\Laravel\Sync;

use PosSync\Laravel\Protocol\ApiError;
use PosSync\Laravel\Protocol\Canonical;
use PosSync\Laravel\Protocol\EntityType;
use PosSync\Laravel\Protocol\Limits;

/**
 * An upload request checked as a whole (§6 "Checks on the whole request"): its JSON shape,
 * entity types, batch size and batch checksum. Any failure throws and nothing is applied.
 */
final class UploadBatch
{
    private const ACTIONS = ['create', 'update', 'delete'];

    /** @param list<Change> $changes */
    private function __construct(public readonly string $batchId, public readonly array $changes)
    {
    }

    public static function parse(mixed $body): self
    {
        if (! $body instanceof \stdClass) {
            throw ApiError::invalidRequest('the body must be a JSON object with batch_id, changes and checksum');
        }
        if (! property_exists($body, 'changes') || ! is_array($body->changes)) {
            throw ApiError::invalidRequest(property_exists($body, 'changes') ? 'changes must be an array' : 'missing field changes');
        }
        // An unknown entity type is answered as such, before any other problem of the batch.
        foreach ($body->changes as $i => $change) {
            if ($change instanceof \stdClass && isset($change->entity_type) && is_string($change->entity_type)) {
                EntityType::check($change->entity_type, "changes[{$i}]");
            }
        }
        foreach (['batch_id', 'checksum'] as $field) {
            if (! property_exists($body, $field) || ! is_string($body->$field)) {
                throw ApiError::invalidRequest(property_exists($body, $field) ? "{$field} must be a string" : "missing field {$field}");
            }
        }
        self::checkId('batch_id', $body->batch_id);
        $changes = [];
        foreach ($body->changes as $i => $change) {
            $changes[] = self::change($i, $change);
        }
        if (count($changes) > Limits::MAX_BATCH_CHANGES) {
            throw ApiError::tooLarge(sprintf('a batch holds at most %d changes; this one has %d', Limits::MAX_BATCH_CHANGES, count($changes)));
        }
        $canonical = '[' . implode(',', array_map(fn (Change $c) => $c->canonical(), $changes)) . ']';
        if (! Canonical::matches(hash('sha256', $canonical), $body->checksum)) {
            throw ApiError::checksumMismatch('the batch checksum does not match its changes; nothing was applied');
        }

        return new self($body->batch_id, $changes);
    }

    private static function change(int $i, mixed $c): Change
    {
        $at = "changes[{$i}]";
        if (! $c instanceof \stdClass) {
            throw ApiError::invalidRequest("{$at}: must be an object");
        }
        foreach (['change_id', 'entity_type', 'entity_id', 'action', 'hlc', 'checksum'] as $field) {
            if (! isset($c->$field)) {
                throw ApiError::invalidRequest("{$at}: missing field {$field}");
            }
        }
        if (! property_exists($c, 'payload')) {
            throw ApiError::invalidRequest("{$at}: missing field payload");
        }
        foreach (['change_id', 'entity_type', 'entity_id', 'action', 'checksum'] as $field) {
            if (! is_string($c->$field)) {
                throw ApiError::invalidRequest("{$at}: {$field} must be a string");
            }
        }
        self::checkId("{$at}.change_id", $c->change_id);
        self::checkId("{$at}.entity_id", $c->entity_id);
        if (! in_array($c->action, self::ACTIONS, true)) {
            throw ApiError::invalidRequest(sprintf("%s: unknown action '%s'; expected create, update or delete", $at, mb_substr($c->action, 0, 32)));
        }
        if (! is_int($c->hlc) || $c->hlc < 0) {
            throw ApiError::invalidRequest("{$at}.hlc must be a non-negative integer");
        }
        $base = $c->base_version ?? null;
        if ($base !== null && (! is_int($base) || $base < 0)) {
            throw ApiError::invalidRequest("{$at}.base_version must be a non-negative integer");
        }

        return new Change($c->change_id, $c->entity_type, $c->entity_id, $c->action, $c->hlc, $base, $c->payload, $c->checksum);
    }

    private static function checkId(string $name, mixed $id): void
    {
        if (($problem = Limits::idProblem($id)) !== null) {
            throw ApiError::invalidRequest("{$name} {$problem}");
        }
    }
}
