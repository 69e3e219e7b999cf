"""The one expression language: rule/flow conditions, computed fields, visibility, row permissions, filters."""

from engine.expr.compiled import CompiledExpr, DataAccess, clear_cache, compile_expression
from engine.expr.errors import ExprError
from engine.expr.parser import parse
from engine.expr.scope import FieldInfo, Scope, SqlTables
from engine.expr.types import ExprType

__all__ = [
    "CompiledExpr",
    "DataAccess",
    "ExprError",
    "ExprType",
    "FieldInfo",
    "Scope",
    "SqlTables",
    "clear_cache",
    "compile_expression",
    "parse",
]
