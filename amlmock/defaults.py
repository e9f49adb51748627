"""Names of the default workspace the fake creates when a caller names none."""

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEFAULT_RESOURCE_GROUP = "amlmock-rg"
DEFAULT_WORKSPACE = "amlmock-ws"
DEFAULT_LOCATION = "eastus"
