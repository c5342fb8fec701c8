namespace Umem.Kernel;

/// <summary>
/// An application's data model (sys/model.h; ddi_mmap_get_model(9F), ddi_model_convert_from(9F)).
/// The values are the DDI's own.
/// </summary>
public enum DataModel
{
    /// <summary>DDI_MODEL_NONE (0): no conversion needed.</summary>
    None = 0,

    /// <summary>DDI_MODEL_ILP32 (0x00100000): a 32-bit application.</summary>
    ILP32 = 0x00100000,

    /// <summary>DDI_MODEL_LP64 (0x00200000): a 64-bit application; DDI_MODEL_NATIVE for this host.</summary>
    LP64 = 0x00200000,
}
