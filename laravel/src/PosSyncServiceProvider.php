<?php

namespace PosSync\Laravel;

use Illuminate\Cache\RateLimiter;
use Illuminate\Contracts\Debug\ExceptionHandler;
use Illuminate\Support\ServiceProvider;
use PosSync\Laravel\Console\DeviceCommand;
use PosSync\Laravel\Devices\DeviceRegistry;
use PosSync\Laravel\Http\ErrorRendering;
use PosSync\Laravel\Http\Middleware\DeviceRateLimiter;
use PosSync\Laravel\Sync\SyncDatabase;

/** Registers the package: config, migrations, routes, the artisan command, JSON errors. */
final class PosSyncServiceProvider extends ServiceProvider
{
    public function register(): void
    {
        $this->mergeConfigFrom(__DIR__ . '/../config/pos-sync.php', 'pos-sync');
        $this->app->bind(DeviceRegistry::class, fn () => new DeviceRegistry(SyncDatabase::connection()));
        $this->app->bind(DeviceRateLimiter::class, function ($app) {
            $store = config('pos-sync.rate_limit.cache_store');

            return new DeviceRateLimiter(
                new RateLimiter($app['cache']->store($store)),
                max(1, (int) config('pos-sync.rate_limit.limit', 600)),
                max(1, (int) config('pos-sync.rate_limit.window_seconds', 60)),
            );
        });
    }

    public function boot(): void
    {
        $this->publishes([__DIR__ . '/../config/pos-sync.php' => $this->app->configPath('pos-sync.php')], 'pos-sync-config');
        $this->publishes([__DIR__ . '/../database/migrations' => $this->app->databasePath('migrations')], 'pos-sync-migrations');
        $this->loadMigrationsFrom(__DIR__ . '/../database/migrations');
        if (! ($this->app instanceof \Illuminate\Foundation\Application && $this->app->routesAreCached())) {
            $this->loadRoutesFrom(__DIR__ . '/../routes/pos-sync.php');
        }
        if ($this->app->runningInConsole()) {
            $this->commands([DeviceCommand::class]);
        }
        $handler = $this->app->make(ExceptionHandler::class);
        if (method_exists($handler, 'renderable')) {
            $handler->renderable(fn (\Throwable $e, $request) => ErrorRendering::render($e, $request));
        }
    }
}
