<?php

namespace PosSync\Laravel\Http\Controllers;

use Illuminate\Http\Request;
use PosSync\Laravel\Http\JsonAnswer;
use PosSync\Laravel\Http\Middleware\AuthenticateDevice;
use PosSync\Laravel\Http\RequestBody;
use PosSync\Laravel\Protocol\ApiError;
use PosSync\Laravel\Protocol\Canonical;
use PosSync\Laravel\Protocol\Hlc;
use PosSync\Laravel\Protocol\Limits;
use PosSync\Laravel\Sync\StoredRecord;
use PosSync\Laravel\Sync\StoreTransaction;
use PosSync\Laravel\Sync\SyncDatabase;
use PosSync\Laravel\Webhooks\WebhookEvents;
use Symfony\Component\HttpFoundation\Response;

/** `POST /api/sync/resolve` (§10): closes an open conflict of the caller's store. */
final class ResolveController
{
    private const RESOLUTIONS = ['keep_local', 'keep_server', 'merged'];

    public function __invoke(Request $request): Response
    {
        $device = $request->attributes->get(AuthenticateDevice::DEVICE);
        $body = RequestBody::json($request);
        if (! $body instanceof \stdClass) {
            throw ApiError::invalidRequest('the body must be a JSON object with conflict_id, resolution and hlc');
        }
        $conflictId = $body->conflict_id ?? null;
        if (! is_string($conflictId) || $conflictId === '' || mb_strlen($conflictId) > Limits::MAX_ID_CHARS) {
            throw ApiError::invalidRequest(sprintf('conflict_id must be a string of 1 to %d characters', Limits::MAX_ID_CHARS));
        }
        $resolution = $body->resolution ?? null;
        if (! in_array($resolution, self::RESOLUTIONS, true)) {
            throw ApiError::invalidRequest('resolution must be keep_local, keep_server or merged');
        }
        $hlc = $body->hlc ?? null;
        if (! is_int($hlc) || $hlc < 0) {
            throw ApiError::invalidRequest('hlc must be a non-negative integer');
        }
        $canonical = $resolution === 'keep_server' ? null : self::checkedPayload($body, $resolution);

        [$record, $written] = SyncDatabase::inStore($device->storeId, function (StoreTransaction $tx) use ($conflictId, $canonical, $resolution, $hlc) {
            // Another store's conflict is indistinguishable from a missing one.
            $conflict = $tx->conflict($conflictId) ?? throw ApiError::notFound('no such conflict');
            if ($conflict->status !== 'open') {
                throw new ApiError(409, 'conflict_closed', 'this conflict was already resolved');
            }
            $written = [];
            if ($canonical !== null) {
                $id = json_decode($canonical)->id ?? null;
                if ($id !== $conflict->entity_id) {
                    throw ApiError::invalidRequest("the payload needs a string field 'id' equal to the conflict's entity_id '{$conflict->entity_id}'");
                }
                $record = $tx->write($conflict->entity_type, $conflict->entity_id, $canonical, Canonical::checksumOfText($canonical), $tx->stamp($hlc));
                $written[] = ['entity_type' => $record->entityType, 'entity_id' => $record->entityId, 'change_id' => $conflict->change_id, 'version' => $record->version];
            } else {
                $record = $tx->record($conflict->entity_type, $conflict->entity_id)
                    ?? StoredRecord::missing($conflict->entity_type, $conflict->entity_id);
            }
            $tx->closeConflict($conflictId, $resolution);

            return [$record, $written];
        });
        WebhookEvents::changesApplied($device->storeId, $device->deviceId, $written);

        return JsonAnswer::text('{"conflict_id":' . Canonical::string($conflictId) . ',"record":' . $record->json()
            . ',"server_time":' . Hlc::nowMs() . '}');
    }

    /** The canonical JSON of the payload a keep_local or merged resolution stores, checked. */
    private static function checkedPayload(\stdClass $body, string $resolution): string
    {
        $payload = $body->payload ?? null;
        if ($payload === null) {
            throw ApiError::invalidRequest("{$resolution} needs the payload to store (a JSON object); to delete, upload a delete change instead");
        }
        if (! $payload instanceof \stdClass) {
            throw ApiError::invalidRequest("{$resolution}: the payload must be a JSON object");
        }
        $checksum = $body->checksum ?? null;
        if (! is_string($checksum)) {
            throw ApiError::invalidRequest("{$resolution} needs the checksum of its payload");
        }
        $canonical = Canonical::json($payload);
        if (! Canonical::matches(Canonical::checksumOfText($canonical), $checksum)) {
            throw ApiError::checksumMismatch('the payload checksum does not match its content; nothing was changed');
        }
        if (strlen($canonical) > Limits::MAX_PAYLOAD_BYTES) {
            throw ApiError::tooLarge(sprintf('the payload is %d bytes of canonical JSON; at most %d are accepted', strlen($canonical), Limits::MAX_PAYLOAD_BYTES));
        }

        return $canonical;
    }
}
