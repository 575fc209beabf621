<?php

namespace PosSync\Laravel\Tests\App;

use Illuminate\Foundation\Http\Kernel;

/** The host app's HTTP kernel: no global middleware; the package brings its own. */
final class HttpKernel extends Kernel
{
    protected $middleware = [];
    protected $middlewareGroups = [];
}
