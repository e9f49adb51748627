"""Constants written once: the default workspace the fake creates when a caller names none, its tenant and user.

A leaf: any layer may import it."""

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
DEFAULT_RESOURCE_GROUP = "amlmock-rg"
DEFAULT_WORKSPACE = "amlmock-ws"
DEFAULT_LOCATION = "eastus"

# The fake's one tenant and its one user (in tokens, ARM's subscription list and every run's ``createdBy``).
TENANT_ID = "00000000-0000-0000-0000-00000000aaaa"
USER_OBJECT_ID = "00000000-0000-0000-0000-0000000a11ce"
USER_NAME = "amlmock-user"

# The artifact a local run's driver writes the script's output to (the service's name for it).
DRIVER_LOG = "azureml-logs/70_driver_log.txt"
USER_NAME_KEY = "userName"
# The one user of the fake, in the shape of a run's ``createdBy`` (the handle's ``run.created_by`` shows it).
DEFAULT_CREATOR = {"userObjectId": USER_OBJECT_ID, "userTenantId": TENANT_ID, USER_NAME_KEY: USER_NAME}
