"""The bundled fake ERP: deterministic data (generator), its HTTP API with
switchable faults (server) and the same data as files (files)."""
from pyloader.fake_erp.files import write_files
from pyloader.fake_erp.generator import SIZES, Dataset, iter_records
from pyloader.fake_erp.server import FakeErp, FakeErpServer, Faults

__all__ = ["SIZES", "Dataset", "FakeErp", "FakeErpServer", "Faults", "iter_records", "write_files"]
