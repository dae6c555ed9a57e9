"""Which callback type each event ID selects, for the Register functions whose C
prototype takes a generic callback (libvirt's headers say it in prose only).
Shared by the shim and the bindings."""

from __future__ import annotations

DOMAIN_EVENT_CALLBACKS = (
    "virConnectDomainEventCallback", "virConnectDomainEventGenericCallback",
    "virConnectDomainEventRTCChangeCallback", "virConnectDomainEventWatchdogCallback",
    "virConnectDomainEventIOErrorCallback", "virConnectDomainEventGraphicsCallback",
    "virConnectDomainEventIOErrorReasonCallback", "virConnectDomainEventGenericCallback",
    "virConnectDomainEventBlockJobCallback", "virConnectDomainEventDiskChangeCallback",
    "virConnectDomainEventTrayChangeCallback", "virConnectDomainEventPMWakeupCallback",
    "virConnectDomainEventPMSuspendCallback", "virConnectDomainEventBalloonChangeCallback",
    "virConnectDomainEventPMSuspendDiskCallback", "virConnectDomainEventDeviceRemovedCallback",
    "virConnectDomainEventBlockJobCallback", "virConnectDomainEventTunableCallback",
    "virConnectDomainEventAgentLifecycleCallback", "virConnectDomainEventDeviceAddedCallback",
    "virConnectDomainEventMigrationIterationCallback", "virConnectDomainEventJobCompletedCallback",
    "virConnectDomainEventDeviceRemovalFailedCallback",
    "virConnectDomainEventMetadataChangeCallback", "virConnectDomainEventBlockThresholdCallback",
    "virConnectDomainEventMemoryFailureCallback",
    "virConnectDomainEventMemoryDeviceSizeChangeCallback",
)
EVENT_FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "virConnectDomainEventRegisterAny": ("VIR_DOMAIN_EVENT_ID_", DOMAIN_EVENT_CALLBACKS),
    "virConnectNetworkEventRegisterAny": ("VIR_NETWORK_EVENT_ID_", (
        "virConnectNetworkEventLifecycleCallback",)),
    "virConnectStoragePoolEventRegisterAny": ("VIR_STORAGE_POOL_EVENT_ID_", (
        "virConnectStoragePoolEventLifecycleCallback", "virConnectStoragePoolEventGenericCallback")),
    "virConnectNodeDeviceEventRegisterAny": ("VIR_NODE_DEVICE_EVENT_ID_", (
        "virConnectNodeDeviceEventLifecycleCallback", "virConnectNodeDeviceEventGenericCallback")),
    "virConnectSecretEventRegisterAny": ("VIR_SECRET_EVENT_ID_", (
        "virConnectSecretEventLifecycleCallback", "virConnectSecretEventGenericCallback")),
}
