<?php

namespace PosSync\Laravel\Http\Controllers;

use Illuminate\Http\Request;
use PosSync\Laravel\Http\JsonAnswer;
use PosSync\Laravel\Http\Middleware\AuthenticateDevice;
use PosSync\Laravel\Protocol\Hlc;
use PosSync\Laravel\Protocol\Limits;
use PosSync\Laravel\Sync\StoreTransaction;
use PosSync\Laravel\Sync\SyncDatabase;
use Symfony\Component\HttpFoundation\Response;

/** `GET /api/sync/status` (§9): counts and drift checksums per type, open conflicts, rate limit. */
final class StatusController
{
    public function __invoke(Request $request): Response
    {
        $device = $request->attributes->get(AuthenticateDevice::DEVICE);
        $db = SyncDatabase::connection();

        return JsonAnswer::of([
            'protocol_version' => Limits::PROTOCOL_VERSION,
            'server_time' => Hlc::nowMs(),
            'store_id' => $device->storeId,
            'device_id' => $device->deviceId,
            'entities' => StoreTransaction::entityStats($db, $device->storeId),
            'open_conflicts' => StoreTransaction::openConflicts($db, $device->storeId),
            'rate_limit' => $request->attributes->get(AuthenticateDevice::RATE_LIMIT),
        ]);
    }
}
