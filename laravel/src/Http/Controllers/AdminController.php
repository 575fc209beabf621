<?php

namespace PosSync\Laravel\Http\Controllers;

use Illuminate\Http\Request;
use PosSync\Laravel\Http\JsonAnswer;
use PosSync\Laravel\Http\RequestBody;
use PosSync\Laravel\Protocol\ApiError;
use PosSync\Laravel\Protocol\EntityType;
use PosSync\Laravel\Protocol\Limits;
use PosSync\Laravel\Publishing\BulkPublisher;
use PosSync\Laravel\Sync\StoredRecord;
use PosSync\Laravel\Sync\StoreTransaction;
use PosSync\Laravel\Sync\SyncDatabase;
use Symfony\Component\HttpFoundation\Response;

/**
 * The reference server's admin routes (demos, tests, the conformance suite), enabled only by
 * `pos-sync.admin.token`: server edits of master data, tombstones, read-outs of records and stock.
 */
final class AdminController
{
    public function __construct(private readonly BulkPublisher $publisher)
    {
    }

    public function put(Request $request, string $store, string $type): Response
    {
        self::checkStore($store);
        BulkPublisher::checkWritable($type);
        $items = RequestBody::json($request);
        if (! is_array($items)) {
            throw ApiError::invalidRequest('the body must be a JSON array of payload objects');
        }

        return self::records($this->publisher->publish($store, $type, $items));
    }

    public function delete(string $store, string $type, string $id): Response
    {
        self::checkStore($store);
        $record = $this->publisher->delete($store, $type, $id) ?? throw ApiError::notFound('no such record');

        return JsonAnswer::text($record->json());
    }

    public function list(string $store, string $type): Response
    {
        self::checkStore($store);
        EntityType::check($type);

        return self::records(StoreTransaction::liveRecords(SyncDatabase::connection(), $store, $type));
    }

    public function stock(string $store): Response
    {
        self::checkStore($store);
        $db = SyncDatabase::connection();
        $rows = $db->table(StoreTransaction::STOCK)->where('store_id', $store)->orderBy('product_id')->get();

        return JsonAnswer::of($rows->map(fn ($row) => [
            'product_id' => $row->product_id,
            'quantity' => StoreTransaction::number($row->quantity),
        ])->all());
    }

    /** @param list<StoredRecord> $records */
    private static function records(array $records): Response
    {
        return JsonAnswer::text('[' . implode(',', array_map(fn (StoredRecord $r) => $r->json(), $records)) . ']');
    }

    private static function checkStore(string $store): void
    {
        if (($problem = Limits::idProblem($store)) !== null) {
            throw ApiError::invalidRequest("store id {$problem}");
        }
    }
}
