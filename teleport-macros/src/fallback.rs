//! What is emitted when the input has errors: the user's item and empty generated types,
//! so that the one real error shows rather than a cascade of unresolved names.

use proc_macro2::TokenStream;
use quote::quote;

use teleport_codegen::ast::Service;
use teleport_codegen::names::{client_ident, server_ident};

use crate::contract;
use crate::expand::Form;

pub(crate) fn generated(service: &Service, form: Form<'_>, krate: &syn::Path) -> TokenStream {
    let vis = &service.vis;
    let client = client_ident(service);
    let group = quote!(#krate::__private::Group);
    let register = quote! {
        fn register(self: #krate::__private::Arc<Self>, _: &#group) {}
    };
    let service_impl = match form {
        Form::Impl(item) if item.generics.params.is_empty() => {
            let self_ty = &item.self_ty;
            quote! {
                #[automatically_derived]
                impl #krate::__private::Service for #self_ty { #register }
            }
        }
        Form::Impl(_) => quote!(),
        Form::Trait(item) => {
            let server_struct = contract::server_type(service);
            if item.generics.params.is_empty() {
                let (server, trait_ident) = (server_ident(service), &item.ident);
                quote! {
                    #server_struct
                    #[automatically_derived]
                    impl<S: #trait_ident> #krate::__private::Service for #server<S> { #register }
                }
            } else {
                server_struct
            }
        }
    };
    quote! {
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #client;
        #service_impl
    }
}
