<?php

use Illuminate\Support\Facades\Route;
use PosSync\Laravel\Http\Controllers\AdminController;
use PosSync\Laravel\Http\Controllers\DownloadController;
use PosSync\Laravel\Http\Controllers\ResolveController;
use PosSync\Laravel\Http\Controllers\StatusController;
use PosSync\Laravel\Http\Controllers\UploadController;
use PosSync\Laravel\Http\Middleware\AuthenticateAdmin;
use PosSync\Laravel\Http\Middleware\AuthenticateDevice;
use PosSync\Laravel\Http\Middleware\FinishAnswer;

$extra = (array) config('pos-sync.middleware', []);

Route::prefix(trim((string) config('pos-sync.prefix', 'api/sync'), '/'))
    ->middleware(array_merge($extra, [FinishAnswer::class, AuthenticateDevice::class]))
    ->name('pos-sync.')
    ->group(function () {
        Route::post('upload', UploadController::class)->name('upload');
        Route::get('download', DownloadController::class)->name('download');
        Route::get('status', StatusController::class)->name('status');
        Route::post('resolve', ResolveController::class)->name('resolve');
    });

Route::prefix(trim((string) config('pos-sync.admin.prefix', 'admin'), '/') . '/stores/{store}')
    ->middleware(array_merge($extra, [FinishAnswer::class, AuthenticateAdmin::class]))
    ->name('pos-sync.admin.')
    ->group(function () {
        Route::get('records/{type}', [AdminController::class, 'list'])->name('records.list');
        Route::put('records/{type}', [AdminController::class, 'put'])->name('records.put');
        Route::delete('records/{type}/{id}', [AdminController::class, 'delete'])->name('records.delete');
        Route::get('stock', [AdminController::class, 'stock'])->name('stock');
    });
