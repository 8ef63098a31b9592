"""Student releases: a repository with stubs, lessons, checks and recorded reference results."""
