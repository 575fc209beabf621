<?php

namespace PosSync\Laravel\Http\Controllers;

use Illuminate\Http\Request;
use PosSync\Laravel\Http\JsonAnswer;
use PosSync\Laravel\Http\Middleware\AuthenticateDevice;
use PosSync\Laravel\Http\RequestBody;
use PosSync\Laravel\Protocol\Hlc;
use PosSync\Laravel\Sync\ChangeApplier;
use PosSync\Laravel\Sync\StoredRecord;
use PosSync\Laravel\Sync\StoreTransaction;
use PosSync\Laravel\Sync\SyncDatabase;
use PosSync\Laravel\Sync\UploadBatch;
use PosSync\Laravel\Webhooks\WebhookEvents;
use Symfony\Component\HttpFoundation\Response;

/** `POST /api/sync/upload`: the batch checked whole, then applied in order in one transaction. */
final class UploadController
{
    public function __invoke(Request $request): Response
    {
        $device = $request->attributes->get(AuthenticateDevice::DEVICE);
        $batch = UploadBatch::parse(RequestBody::json($request));
        [$results, $written] = SyncDatabase::inStore($device->storeId, function (StoreTransaction $tx) use ($device, $batch) {
            $applier = new ChangeApplier($tx, $device->deviceId);

            return [$applier->applyAll($batch->changes), $applier->written];
        });
        WebhookEvents::changesApplied($device->storeId, $device->deviceId, $written);

        $parts = [];
        foreach ($results as $result) {
            if (($result['server_record'] ?? null) instanceof StoredRecord) {
                $result['server_record'] = $result['server_record']->value();
            }
            $parts[] = json_encode($result, JsonAnswer::FLAGS);
        }

        return JsonAnswer::text('{"results":[' . implode(',', $parts) . '],"server_time":' . Hlc::nowMs() . '}');
    }
}
