<?php

// A minimal Laravel application that hosts the package for its tests, the conformance run,
// the demo and the benchmark (Debian ships the framework but no laravel/laravel skeleton).
// Paths that are written (storage, bootstrap cache) live in POS_SYNC_APP_STORAGE.

set_include_path(get_include_path() . PATH_SEPARATOR . '/usr/share/php');
require_once 'Illuminate/autoload.php';
require_once 'GuzzleHttp/autoload.php';
if (stream_resolve_include_path('Mockery/autoload.php')) {
    require_once 'Mockery/autoload.php';
}

spl_autoload_register(function (string $class): void {
    foreach (['PosSync\\Laravel\\Tests\\' => __DIR__ . '/../', 'PosSync\\Laravel\\' => __DIR__ . '/../../src/'] as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }

            return;
        }
    }
});

$app = new Illuminate\Foundation\Application(__DIR__);
$storage = getenv('POS_SYNC_APP_STORAGE') ?: sys_get_temp_dir() . '/pos-sync-laravel-app';
foreach (['framework/cache/data', 'framework/views', 'logs', 'bootstrap-cache'] as $dir) {
    if (! is_dir("{$storage}/{$dir}")) {
        @mkdir("{$storage}/{$dir}", 0775, true);
    }
}
$app->useStoragePath($storage);
// The bootstrap cache (packages.php, services.php) is written: keep it out of the repo.
foreach (['APP_SERVICES_CACHE' => 'services.php', 'APP_PACKAGES_CACHE' => 'packages.php', 'APP_CONFIG_CACHE' => 'config.php', 'APP_ROUTES_CACHE' => 'routes.php', 'APP_EVENTS_CACHE' => 'events.php'] as $env => $file) {
    $_ENV[$env] = $_SERVER[$env] = "{$storage}/bootstrap-cache/{$file}";
}

$app->singleton(Illuminate\Contracts\Http\Kernel::class, PosSync\Laravel\Tests\App\HttpKernel::class);
$app->singleton(Illuminate\Contracts\Console\Kernel::class, PosSync\Laravel\Tests\App\ConsoleKernel::class);
$app->singleton(Illuminate\Contracts\Debug\ExceptionHandler::class, Illuminate\Foundation\Exceptions\Handler::class);

return $app;
