// Lets android/ build on its own (`gradle assembleRelease` in this folder). An app that
// includes the module from source can `include(":pos-sync")` with projectDir = this folder.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "pos-sync"
