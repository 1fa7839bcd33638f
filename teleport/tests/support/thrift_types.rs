//! Thrift structs written by hand as the Thrift compiler generates them for Rust:
//!
//! ```thrift
//! struct Test { 1: string author }
//! struct Nums { 1: list<i32> values }
//! struct Empty {}
//! ```
//!
//! Shared by the thrift codec and protocol tests through `#[path]`.

#![allow(dead_code)]

use thrift::protocol::{
    TFieldIdentifier, TInputProtocol, TListIdentifier, TOutputProtocol, TSerializable,
    TStructIdentifier, TType,
};

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Test {
    pub(crate) author: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Nums {
    pub(crate) values: Vec<i32>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Empty {}

/// Reads fields until STOP, handing each (id, type) to `field`, which reads the value and
/// returns whether it knew the field (unknown ones are skipped).
fn read_fields(
    i: &mut dyn TInputProtocol,
    mut field: impl FnMut(&mut dyn TInputProtocol, Option<i16>, TType) -> thrift::Result<bool>,
) -> thrift::Result<()> {
    i.read_struct_begin()?;
    loop {
        let ident = i.read_field_begin()?;
        if ident.field_type == TType::Stop {
            break;
        }
        if !field(i, ident.id, ident.field_type)? {
            i.skip(ident.field_type)?;
        }
        i.read_field_end()?;
    }
    i.read_struct_end()
}

impl TSerializable for Test {
    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> thrift::Result<Self> {
        let mut out = Test::default();
        read_fields(i, |i, id, ty| match (id, ty) {
            (Some(1), TType::String) => {
                out.author = i.read_string()?;
                Ok(true)
            }
            _ => Ok(false),
        })?;
        Ok(out)
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> thrift::Result<()> {
        o.write_struct_begin(&TStructIdentifier::new("Test"))?;
        o.write_field_begin(&TFieldIdentifier::new("author", TType::String, 1))?;
        o.write_string(&self.author)?;
        o.write_field_end()?;
        o.write_field_stop()?;
        o.write_struct_end()
    }
}

impl TSerializable for Nums {
    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> thrift::Result<Self> {
        let mut out = Nums::default();
        read_fields(i, |i, id, ty| match (id, ty) {
            (Some(1), TType::List) => {
                let list = i.read_list_begin()?;
                let mut values = Vec::with_capacity(list.size as usize);
                for _ in 0..list.size {
                    values.push(i.read_i32()?);
                }
                i.read_list_end()?;
                out.values = values;
                Ok(true)
            }
            _ => Ok(false),
        })?;
        Ok(out)
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> thrift::Result<()> {
        o.write_struct_begin(&TStructIdentifier::new("Nums"))?;
        o.write_field_begin(&TFieldIdentifier::new("values", TType::List, 1))?;
        o.write_list_begin(&TListIdentifier::new(TType::I32, self.values.len() as i32))?;
        for v in &self.values {
            o.write_i32(*v)?;
        }
        o.write_list_end()?;
        o.write_field_end()?;
        o.write_field_stop()?;
        o.write_struct_end()
    }
}

impl TSerializable for Empty {
    fn read_from_in_protocol(i: &mut dyn TInputProtocol) -> thrift::Result<Self> {
        read_fields(i, |_, _, _| Ok(false))?;
        Ok(Empty {})
    }

    fn write_to_out_protocol(&self, o: &mut dyn TOutputProtocol) -> thrift::Result<()> {
        o.write_struct_begin(&TStructIdentifier::new("Empty"))?;
        o.write_field_stop()?;
        o.write_struct_end()
    }
}
