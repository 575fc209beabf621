<?php

namespace PosSync\Laravel\Sync;

use Illuminate\Database\ConnectionInterface;

/** The database connection of the sync tables (`pos-sync.connection`, the app's default if null). */
final class SyncDatabase
{
    public static function connection(): ConnectionInterface
    {
        return app('db')->connection(config('pos-sync.connection'));
    }

    /**
     * Runs `$work` in a transaction on the store's locked counter row, then writes what it
     * decided. Nested in an app's own transaction it becomes a savepoint of it.
     *
     * @template T
     * @param callable(StoreTransaction): T $work
     * @return T
     */
    public static function inStore(string $storeId, callable $work): mixed
    {
        $db = self::connection();

        return $db->transaction(function () use ($db, $storeId, $work) {
            $tx = new StoreTransaction($db, $storeId);
            $result = $work($tx);
            $tx->flush();

            return $result;
        }, 3);
    }
}
